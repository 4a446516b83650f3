using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Discovery;

/// <summary>Where one service's resolution stands: the answer in use, when to refresh it, how long to use it, and what went wrong last.</summary>
/// <remarks>
/// Immutable: each refresh outcome makes a new status through the pure transitions <see cref="Answered"/> and
/// <see cref="Failed"/>, swapped in whole by the one owner of a name's state (<see cref="DiscoveredService"/>), so a
/// reader always sees one consistent state. Times are clock timestamps (0 means never), except
/// <see cref="FreshUntil"/>, which is a coarse reading (<see cref="CloudMapContext.CoarseNow"/>).
/// </remarks>
internal sealed record DiscoveryState
{
    public static readonly DiscoveryState Initial = new();

    /// <summary>The answer requests get, or <see langword="null"/> when there is none they may use.</summary>
    public EndpointSet? Current { get; private init; }

    /// <summary>From this time on, a request or the sweeper starts a background refresh.</summary>
    public long RefreshAt { get; private init; }

    /// <summary>The coarse reading of <see cref="RefreshAt"/>: before it, a request is served without a precise clock read.</summary>
    public long FreshUntil { get; init; } = long.MinValue;

    /// <summary>The coarse reading when the last refresh ended (<see cref="long.MinValue"/> before the first).</summary>
    public long RefreshedAt { get; init; } = long.MinValue;

    /// <summary>How many refreshes in a row ended with no request using the name since the one before.</summary>
    public int UnusedRefreshes { get; init; }

    /// <summary>Past this time, requests wait for a refresh (the answer expired, or <see cref="CacheSettings.MaxStale"/> ran out).</summary>
    public long UsableUntil { get; private init; }

    /// <summary>When the source last answered.</summary>
    public long LastRefresh { get; private init; }

    /// <summary>Consecutive failed refreshes, for the backoff.</summary>
    public int Failures { get; private init; }

    /// <summary>The last failure, until the next answer.</summary>
    public Exception? LastError { get; private init; }

    /// <summary>With no answer to serve, the last failure is handed to new requests until then, without a new query.</summary>
    public long LastErrorUntil { get; private init; }

    /// <summary>The source is failing and the last good answer is being served.</summary>
    public bool IsStale => LastError is not null && Current is not null;

    /// <summary>The last failure dropped a good answer because <see cref="CacheSettings.MaxStale"/> ran out.</summary>
    public bool StaleExpired { get; private init; }

    /// <summary>The status after the source answered with <paramref name="set"/> at <paramref name="now"/>.</summary>
    public static DiscoveryState Answered(EndpointSet set, long now, long ttlTicks, bool floored)
    {
        var (refreshAt, usableUntil) = RefreshTiming.Schedule(now, ttlTicks, floored);
        return new DiscoveryState { Current = set, RefreshAt = refreshAt, UsableUntil = usableUntil, LastRefresh = now };
    }

    /// <summary>The status after a failed refresh at <paramref name="now"/>, with the next try at <paramref name="retryAt"/>.</summary>
    /// <remarks>
    /// The last good answer is served stale until <paramref name="staleUntil"/> if that is still ahead; otherwise
    /// there is no answer, and the failure is handed to requests until the retry.
    /// </remarks>
    public DiscoveryState Failed(Exception error, long now, long retryAt, long staleUntil)
    {
        var servingStale = now < staleUntil;
        return new DiscoveryState
        {
            Current = servingStale ? Current : null,
            RefreshAt = servingStale ? Math.Min(retryAt, staleUntil) : retryAt,
            UsableUntil = servingStale ? staleUntil : 0,
            LastRefresh = LastRefresh,
            Failures = Failures + 1,
            LastError = error,
            LastErrorUntil = retryAt,
            StaleExpired = !servingStale && staleUntil != 0,
        };
    }

    /// <summary>Whether a caller with no usable answer should wait for a new refresh at <paramref name="now"/> rather than take this status as it is.</summary>
    public bool NeedsRefresh(long now)
        => Current is not null ? now >= UsableUntil : LastError is null || now >= LastErrorUntil;
}
