namespace CloudMapDiscovery.Balancing;

/// <summary>The ejection settings, taken from the options once.</summary>
internal sealed class EjectionPolicy
{
    public EjectionPolicy(CloudMapDiscoveryOptions options)
    {
        ConsecutiveConnectFailures = options.ConsecutiveConnectFailures;
        ConsecutiveFailures = options.ConsecutiveFailures;
        BaseEjectionTime = options.BaseEjectionTime;
        MaxEjectionTime = options.MaxEjectionTime;
        EjectOnGatewayErrors = options.EjectOnGatewayErrors;
    }

    public int ConsecutiveConnectFailures { get; }

    public int ConsecutiveFailures { get; }

    public TimeSpan BaseEjectionTime { get; }

    public TimeSpan MaxEjectionTime { get; }

    public bool EjectOnGatewayErrors { get; }

    /// <summary>Base times n, capped, with ±10 % jitter so that endpoints ejected together are not re-admitted together.</summary>
    public TimeSpan EjectionTime(int ejections)
    {
        var ticks = Math.Min(BaseEjectionTime.Ticks * (long)Math.Min(ejections, 1_000), MaxEjectionTime.Ticks);
        var jitter = 0.9 + (Random.Shared.NextDouble() * 0.2);
        return TimeSpan.FromTicks(Math.Min((long)(ticks * jitter), MaxEjectionTime.Ticks));
    }
}
