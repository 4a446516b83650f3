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
internal sealed record EjectionSettings(int ConsecutiveConnectFailures, int ConsecutiveFailures, TimeSpan BaseEjectionTime, TimeSpan MaxEjectionTime, bool OnGatewayErrors)
{
    /// <summary>Base times n, capped, with ±10 % jitter so that endpoints ejected together are not re-admitted together.</summary>
    public TimeSpan EjectionTime(int ejections)
    {
        var ticks = Math.Min(BaseEjectionTime.Ticks * (long)Math.Min(ejections, 1_000), MaxEjectionTime.Ticks);
        var jitter = 0.9 + (Random.Shared.NextDouble() * 0.2);
        return TimeSpan.FromTicks(Math.Min((long)(ticks * jitter), MaxEjectionTime.Ticks));
    }
}

/// <summary>
/// Background connects that stand between an address and its requests: before an ejected address is re-admitted, and
/// before a new address gets its first request while healthy ones exist.
/// </summary>
/// <remarks>
/// <see cref="ConnectTimeout"/> is the connect timeout of the client's own connections too: a probe waits no longer
/// than a request would.
/// </remarks>
internal sealed record ProbeSettings(bool Ejected, bool NewEndpoints, TimeSpan? ConnectTimeout)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a probe waits for its connect: <see cref="ConnectTimeout"/>, or 2 s when that leaves the handler's own (possibly infinite) setting alone.</summary>
    public TimeSpan Timeout => ConnectTimeout is { } t && t > TimeSpan.Zero ? t : DefaultTimeout;
}
