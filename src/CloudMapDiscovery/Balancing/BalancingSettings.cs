namespace CloudMapDiscovery.Balancing;

/// <summary>How endpoint health is judged. Balancers are shared by equality of these settings (and the discovery settings).</summary>
internal sealed record BalancingSettings(EjectionSettings Ejection);

/// <summary>When a failing endpoint is ejected, and for how long (see <see cref="CloudMapDiscoveryOptions"/> for each reason).</summary>
internal sealed record EjectionSettings(int ConsecutiveConnectFailures, int ConsecutiveFailures, TimeSpan BaseEjectionTime, TimeSpan MaxEjectionTime)
{
    /// <summary>Base times n, capped, with ±10 % jitter so that endpoints ejected together are not re-admitted together.</summary>
    public TimeSpan EjectionTime(int ejections)
    {
        var ticks = Math.Min(BaseEjectionTime.Ticks * (long)Math.Min(ejections, 1_000), MaxEjectionTime.Ticks);
        var jitter = 0.9 + (Random.Shared.NextDouble() * 0.2);
        return TimeSpan.FromTicks(Math.Min((long)(ticks * jitter), MaxEjectionTime.Ticks));
    }
}
