using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Discovery;

/// <summary>What a refresh outcome makes of a service's state: the next endpoint set, the next status, and the error a request sees.</summary>
/// <remarks>
/// Functions of (state, outcome, now, settings); the only state they touch is the MULTIVALUE merge's memory, which
/// its owner hands in. Their caller (<see cref="DiscoveredService"/>) publishes what they return.
/// </remarks>
internal static class DiscoveryRules
{
    /// <summary>The status after a refresh that gave <paramref name="resolution"/> or failed with <paramref name="error"/>.</summary>
    public static DiscoveryState Next(DiscoveryState before, SourceAnswer? resolution, Exception? error, RefreshContext c)
    {
        DiscoveryState status;
        if (resolution is not null)
        {
            var set = Answer(resolution, before.Current, c);
            status = DiscoveryState.Answered(set, c.Now, c.Context.ToTicks(set.Ttl), RefreshTiming.IsFloored(resolution.Ttl, c.Settings));
            LogAnswer(c.Context.Logger, c.Host, set, resolution.Source);
        }
        else
        {
            status = Failure(before, error!, c);
        }

        return status with
        {
            FreshUntil = c.Context.ToCoarse(status.RefreshAt),
            RefreshedAt = c.Context.CoarseNow(),
            UnusedRefreshes = c.LastUsed <= before.RefreshedAt ? before.UnusedRefreshes + 1 : 0,
        };
    }

    // The endpoint set for a positive or negative answer: "no instances" forgets the merge's memory; a positive one
    // may keep recently seen addresses of the set in use (current); the version counts on from the last set published.
    private static EndpointSet Answer(SourceAnswer resolution, EndpointSet? current, RefreshContext c)
    {
        if (resolution.IsNegative)
        {
            c.Merge.Clear();
            return EndpointSet.Next(c.Latest, [], RefreshTiming.NegativeTtl(resolution.Ttl, c.Settings), c.Now, resolution.NegativeReason ?? "no instances");
        }

        var endpoints = c.Merge.Apply(resolution, current, c.Now, c.Settings.MultiValue, c.Context.ToTicks(c.Settings.MultiValue.Retention));
        return EndpointSet.Next(c.Latest, endpoints, RefreshTiming.PositiveTtl(resolution.Ttl, c.Settings), c.Now, null);
    }

    // After a failed refresh: the last good answer served stale while allowed, and a backoff before the next try.
    private static DiscoveryState Failure(DiscoveryState before, Exception error, RefreshContext c)
    {
        var backoff = RefreshTiming.Backoff(before.Failures + 1);
        var staleUntil = before.Current is { } set ? RefreshTiming.StaleUntil(set, c.Settings, c.Context) : 0;
        var status = before.Failed(error, c.Now, c.Now + c.Context.ToTicks(backoff), staleUntil);
        if (status.IsStale)
        {
            Log.ServingStale(c.Context.Logger, c.Host, backoff, error.Message);
        }
        else
        {
            Log.ResolveFailed(c.Context.Logger, c.Host, backoff, error.Message);
        }

        return status;
    }

    /// <summary>The error a request gets when there is no usable answer: what went wrong, naming the host.</summary>
    public static ServiceDiscoveryException Unusable(string host, DiscoveryState status, Exception error, CacheSettings settings)
    {
        var stale = status.StaleExpired ? $" and the last good answer is older than MaxStale ({settings.MaxStale})" : string.Empty;
        return new ServiceDiscoveryException(host, $"Cannot discover {host}: {error.Message.TrimEnd('.')}{stale}.", error);
    }

    /// <summary>Logs a new answer: "no instances" always, the endpoints at debug level.</summary>
    private static void LogAnswer(ILogger logger, string host, EndpointSet set, string source)
    {
        if (set.NegativeReason is not null)
        {
            Log.NoInstances(logger, host, set.NegativeReason, set.Ttl);
        }
        else if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Resolved(logger, host, set.Endpoints.Length, string.Join(", ", set.Endpoints.Select(e => e.Address)), set.Ttl, source);
        }
    }
}

/// <summary>What a refresh outcome is judged against besides the status before it.</summary>
/// <param name="Host">The service, for logs and errors.</param>
/// <param name="Now">When the outcome arrived (a clock timestamp).</param>
/// <param name="LastUsed">When a request last used the name (a coarse reading).</param>
/// <param name="Latest">The last set published, usable or not: versions count on from it.</param>
/// <param name="Merge">The MULTIVALUE merge's memory.</param>
/// <param name="Settings">The cache settings.</param>
/// <param name="Context">The clock's units and the logger.</param>
internal readonly record struct RefreshContext(
    string Host, long Now, long LastUsed, EndpointSet? Latest, MultiValueMerge Merge, CacheSettings Settings, CloudMapContext Context);

