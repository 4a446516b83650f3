using CloudMapDiscovery.Shared;
namespace CloudMapDiscovery.Discovery;

/// <summary>How long an answer is kept, when it is refreshed, and how long to back off after a failed refresh.</summary>
/// <remarks>Pure functions of the answer, the settings and the time (with jitter drawn from <see cref="Random.Shared"/>).</remarks>
internal static class RefreshTiming
{
    private static readonly TimeSpan MaxRetryBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Whether the record asked for less than <see cref="CacheSettings.MinTtl"/>, which then becomes our own query interval.</summary>
    public static bool IsFloored(TimeSpan? recordTtl, CacheSettings settings) => (recordTtl ?? settings.MinTtl) < settings.MinTtl;

    /// <summary>The TTL in force for a positive answer: the record's, raised to <see cref="CacheSettings.MinTtl"/> and capped at <see cref="CacheSettings.MaxTtl"/>.</summary>
    public static TimeSpan PositiveTtl(TimeSpan? recordTtl, CacheSettings settings)
    {
        var raw = recordTtl ?? settings.MinTtl;
        return raw < settings.MinTtl ? settings.MinTtl : raw > settings.MaxTtl ? settings.MaxTtl : raw;
    }

    /// <summary>The TTL in force for "no instances": honoured, but briefly.</summary>
    /// <remarks>Cloud Map's 900 s negative TTL would hide a scale-from-zero for 15 minutes.</remarks>
    public static TimeSpan NegativeTtl(TimeSpan? soaTtl, CacheSettings settings)
    {
        var negative = soaTtl ?? settings.NegativeTtlCap;
        var floor = settings.MinTtl < settings.NegativeTtlCap ? settings.MinTtl : settings.NegativeTtlCap;
        return negative < floor ? floor : negative > settings.NegativeTtlCap ? settings.NegativeTtlCap : negative;
    }

    /// <summary>When to refresh an answer fetched at <paramref name="now"/>, and until when to use it without waiting.</summary>
    public static (long RefreshAt, long UsableUntil) Schedule(long now, long ttlTicks, bool floored)
    {
        if (floored)
        {
            // The record asked for less than MinTtl (Cloud Map's sample uses 0): MinTtl is then our own query interval,
            // so refresh at MinTtl plus up to 10 % jitter (never more than one query per MinTtl), and keep using the
            // answer for half a MinTtl more so that no request waits on that refresh.
            return (now + (long)(ttlTicks * (1.0 + (Random.Shared.NextDouble() * 0.1))), now + (long)(ttlTicks * 1.5));
        }

        // Between 75 % and 90 % of the TTL: ahead of expiry, and spread so that many clients that fetched together do
        // not all ask again in the same instant (envoy#35641).
        return (now + (long)(ttlTicks * (0.75 + (Random.Shared.NextDouble() * 0.15))), now + ttlTicks);
    }

    /// <summary>How long a good answer may be served while its source fails: its TTL plus MaxStale; never for a negative answer (0: already past).</summary>
    public static long StaleUntil(EndpointSet set, CacheSettings settings, CloudMapContext context)
        => set.NegativeReason is not null ? 0 : set.FetchedAt + context.ToTicks(set.Ttl + settings.MaxStale);

    /// <summary>
    /// The retry delay after <paramref name="failures"/> consecutive failures: 1 s, 2 s, 4 s and so on up to 30 s, each
    /// with ±20 % jitter.
    /// </summary>
    /// <remarks>The delay grows so that a failing source is not hammered.</remarks>
    public static TimeSpan Backoff(int failures)
    {
        var seconds = Math.Min(MaxRetryBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10)));
        return TimeSpan.FromSeconds(seconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }
}
