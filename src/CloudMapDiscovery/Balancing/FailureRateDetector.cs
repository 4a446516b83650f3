using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// Envoy's failure-percentage rule with a peer comparison: at the end of each window, an endpoint that answered at least
/// the minimum of requests, failed at least the threshold's share of them and at least twice the share of its peers
/// (the other endpoints with enough requests, pooled) is an outlier.
/// </summary>
/// <remarks>
/// Owned by its balancer and run under its lock. The window ends lazily: the first failure reported after it judges
/// it and starts the next, so a service without failures costs nothing beyond the endpoints' request counts. Needs at
/// least two endpoints with enough requests: with no peer, nothing says the failures are the task's rather than the
/// requests'.
/// </remarks>
internal sealed class FailureRateDetector
{
    private readonly FailureRateSettings _settings;
    private readonly long _window;
    private long _windowStart;

    public FailureRateDetector(FailureRateSettings settings, long window, long now)
    {
        _settings = settings;
        _window = window;
        _windowStart = now;
    }

    /// <summary>The detector <paramref name="ejection"/> asks for, its first window starting now, or <see langword="null"/> when the rule is off.</summary>
    public static FailureRateDetector? For(EjectionSettings ejection, CloudMapContext context)
        => ejection.FailureRate is { } rate ? new FailureRateDetector(rate, context.ToTicks(rate.Window), context.Clock.GetTimestamp()) : null;

    /// <summary>When the window is over at <paramref name="now"/>, its outliers (the next window starts); else <see langword="null"/>.</summary>
    public List<BalancedEndpoint>? Judge(BalancedEndpoint[] endpoints, long now)
    {
        if (!IsWindowOver(now))
        {
            return null;
        }

        var outliers = new List<BalancedEndpoint>();

        long requests = 0, failures = 0;
        var judged = 0;
        foreach (var e in endpoints)
        {
            if (e.Load.WindowRequests >= _settings.MinimumRequests && e.EjectedUntil == 0)
            {
                judged++;
                requests += e.Load.WindowRequests;
                failures += Math.Min(e.Load.WindowFailures, e.Load.WindowRequests);
            }
        }

        if (judged >= 2)
        {
            foreach (var e in endpoints)
            {
                var r = e.Load.WindowRequests;
                if (r < _settings.MinimumRequests || e.EjectedUntil != 0)
                {
                    continue;
                }

                var f = Math.Min(e.Load.WindowFailures, r);
                var share = (double)f / r;
                var peers = requests - r > 0 ? (double)(failures - f) / (requests - r) : 0;
                if (share >= _settings.Threshold && share >= 2 * peers)
                {
                    outliers.Add(e);
                }
            }
        }

        foreach (var e in endpoints)
        {
            e.Load.ResetWindow();
        }

        _windowStart = now;
        return outliers;
    }

    private bool IsWindowOver(long now) => now - _windowStart >= _window;
}
