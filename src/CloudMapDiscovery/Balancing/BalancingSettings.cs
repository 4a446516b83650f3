using CloudMapDiscovery.Balancing.Zones;

namespace CloudMapDiscovery.Balancing;

/// <summary>How endpoint health is judged.</summary>
/// <remarks>Balancers are shared by equality of these settings (and the discovery settings).</remarks>
internal sealed record BalancingSettings(EjectionSettings Ejection, ProbeSettings Probe, ZoneSettings? Zones = null)
{
    /// <summary>The zone-aware routing settings (off when none were given).</summary>
    public ZoneSettings Zoning => Zones ?? ZoneSettings.Off;
}

/// <summary>When a failing endpoint is ejected, and for how long (see <see cref="CloudMapDiscoveryOptions"/> for each reason).</summary>
/// <remarks><see cref="ConsecutiveServerErrors"/> 0 leaves 5xx responses out of every rule; <see cref="FailureRate"/> null turns that detector off.</remarks>
internal sealed record EjectionSettings(
    int ConsecutiveConnectFailures,
    int ConsecutiveFailures,
    int ConsecutiveServerErrors,
    TimeSpan BaseEjectionTime,
    TimeSpan MaxEjectionTime,
    int MaxEjectionPercent,
    FailureRateSettings? FailureRate)
{
    /// <summary>Whether a 5xx response counts against the endpoint that answered it.</summary>
    public bool CountsServerErrors => ConsecutiveServerErrors > 0;

    /// <summary>How many failures of this cause in a row eject an endpoint.</summary>
    public int Threshold(FailureCause cause) => cause switch
    {
        FailureCause.Connect => ConsecutiveConnectFailures,
        FailureCause.ServerError => ConsecutiveServerErrors,
        _ => ConsecutiveFailures,
    };

    /// <summary>How many of <paramref name="endpoints"/> may be out for their responses at once: <see cref="MaxEjectionPercent"/> of them, rounded down, at least one.</summary>
    public int EjectionBudget(int endpoints) => Math.Max(1, endpoints * MaxEjectionPercent / 100);

    /// <summary>Whether <paramref name="endpoint"/> may go out for its responses: those of <paramref name="endpoints"/> out already (it aside) stay under the budget.</summary>
    public bool BudgetLeft(BalancedEndpoint[] endpoints, BalancedEndpoint endpoint)
    {
        var out_ = 0;
        foreach (var e in endpoints)
        {
            if (!ReferenceEquals(e, endpoint) && e.IsOutForResponses)
            {
                out_++;
            }
        }

        return out_ < EjectionBudget(endpoints.Length);
    }

    /// <summary>The longest ejection for a task's responses: 25 s, or <see cref="BaseEjectionTime"/> when that is longer, and never past <see cref="MaxEjectionTime"/>.</summary>
    /// <remarks>
    /// A task out for its responses comes back only through a trial request (or a health check) at the end of its
    /// ejection. Were those ejections to grow like connect ones, a trial that failed just before the task healed would
    /// keep a healed task out for a whole <see cref="MaxEjectionTime"/>; capped at 25 s (jitter included), the next
    /// trial comes at most 25 s after healing, which leaves 5 s for that trial to be sent and answered within the 30 s
    /// promise. A connect failure costs callers a connect timeout per attempt and is re-admitted by a probe the moment
    /// it connects, so connect ejections keep growing to <see cref="MaxEjectionTime"/>.
    /// </remarks>
    public TimeSpan ResponseEjectionCap => TimeSpan.FromTicks(Math.Min(MaxEjectionTime.Ticks, Math.Max(BaseEjectionTime.Ticks, ResponseCap.Ticks)));

    private static TimeSpan ResponseCap => TimeSpan.FromSeconds(25);

    /// <summary>Base times n, capped (at <see cref="ResponseEjectionCap"/> for <paramref name="forResponses"/>, else at <see cref="MaxEjectionTime"/>), with ±10 % jitter (-10 % at the cap) so that endpoints ejected together are not re-admitted together.</summary>
    public TimeSpan EjectionTime(int ejections, bool forResponses = false)
    {
        var cap = forResponses ? ResponseEjectionCap : MaxEjectionTime;
        var ticks = Math.Min(BaseEjectionTime.Ticks * (long)Math.Min(ejections, 1_000), cap.Ticks);
        // At the cap the jitter only shortens: clamped, half the endpoints would come back at the very same moment.
        var jitter = 0.9 + (Random.Shared.NextDouble() * (ticks < cap.Ticks ? 0.2 : 0.1));
        return TimeSpan.FromTicks(Math.Min((long)(ticks * jitter), cap.Ticks));
    }
}

/// <summary>The failure-percentage detector: over each <see cref="Window"/>, an endpoint with at least <see cref="MinimumRequests"/> whose failure share is at least <see cref="Threshold"/> and at least twice its peers' is ejected.</summary>
internal sealed record FailureRateSettings(double Threshold, int MinimumRequests, TimeSpan Window);

/// <summary>
/// Background connects that stand between an address and its requests: before an ejected address is re-admitted, and
/// before a new address gets its first request while healthy ones exist.
/// </summary>
/// <remarks>
/// <see cref="ConnectTimeout"/> is the connect timeout of the client's own connections too: a probe waits no longer
/// than a request would. With <see cref="HealthCheckPath"/> set, every probe is an HTTP GET of that path that must
/// answer 2xx within that time.
/// </remarks>
internal sealed record ProbeSettings(bool Ejected, bool NewEndpoints, TimeSpan? ConnectTimeout, string? HealthCheckPath = null)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a probe waits for its connect: <see cref="ConnectTimeout"/>, or 2 s when that leaves the handler's own (possibly infinite) setting alone.</summary>
    public TimeSpan Timeout => ConnectTimeout is { } t && t > TimeSpan.Zero ? t : DefaultTimeout;
}
