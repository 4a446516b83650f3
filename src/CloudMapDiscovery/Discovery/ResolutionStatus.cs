namespace CloudMapDiscovery.Discovery;

/// <summary>
/// Where one service's resolution stands: the answer in use, when to refresh it, how long it may be used, and what
/// went wrong last. Immutable: each refresh outcome makes a new status, swapped in whole, so a reader always sees
/// one consistent state. Times are clock timestamps; 0 means never.
/// </summary>
internal sealed class ResolutionStatus
{
    public static readonly ResolutionStatus Initial = new(null, 0, 0, 0, 0, null, 0, staleExpired: false);

    private ResolutionStatus(
        ResolvedEndpoints? current, long refreshAt, long usableUntil, long lastRefresh, int failures, Exception? lastError, long lastErrorUntil, bool staleExpired)
    {
        Current = current;
        RefreshAt = refreshAt;
        UsableUntil = usableUntil;
        LastRefresh = lastRefresh;
        Failures = failures;
        LastError = lastError;
        LastErrorUntil = lastErrorUntil;
        StaleExpired = staleExpired;
    }

    /// <summary>The answer requests get, or <see langword="null"/> when there is none they may use.</summary>
    public ResolvedEndpoints? Current { get; }

    /// <summary>From this time on, a request or the sweeper starts a background refresh.</summary>
    public long RefreshAt { get; }

    /// <summary>Past this time, requests wait for a refresh (the answer expired, or <see cref="CacheSettings.MaxStale"/> ran out).</summary>
    public long UsableUntil { get; }

    /// <summary>When DNS last answered.</summary>
    public long LastRefresh { get; }

    /// <summary>Consecutive failed refreshes, for the backoff.</summary>
    public int Failures { get; }

    /// <summary>The last failure, until the next answer.</summary>
    public Exception? LastError { get; }

    /// <summary>With no answer to serve, the last failure is handed to new requests until then, without a new query.</summary>
    public long LastErrorUntil { get; }

    /// <summary>DNS is failing and the last good answer is being served (a failure keeps an answer only while it may be served stale).</summary>
    public bool IsStale => LastError is not null && Current is not null;

    /// <summary>The last failure dropped a good answer because <see cref="CacheSettings.MaxStale"/> ran out.</summary>
    public bool StaleExpired { get; }

    /// <summary>The status after DNS answered with <paramref name="set"/> at <paramref name="now"/>.</summary>
    public static ResolutionStatus Answered(ResolvedEndpoints set, long now, long ttlTicks, bool floored)
    {
        var (refreshAt, usableUntil) = RefreshTiming.Schedule(now, ttlTicks, floored);
        return new ResolutionStatus(set, refreshAt, usableUntil, now, 0, null, 0, staleExpired: false);
    }

    /// <summary>
    /// The status after a failed refresh at <paramref name="now"/>: the last good answer served stale until
    /// <paramref name="staleUntil"/> if that is still ahead, otherwise no answer; the next try at <paramref name="retryAt"/>.
    /// </summary>
    public ResolutionStatus Failed(Exception error, long now, long retryAt, long staleUntil)
    {
        var servingStale = now < staleUntil;
        return servingStale
            ? new ResolutionStatus(Current, Math.Min(retryAt, staleUntil), staleUntil, LastRefresh, Failures + 1, error, retryAt, staleExpired: false)
            : new ResolutionStatus(null, retryAt, 0, LastRefresh, Failures + 1, error, retryAt, staleExpired: staleUntil != 0);
    }
}
