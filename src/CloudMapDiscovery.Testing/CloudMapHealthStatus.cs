namespace CloudMapDiscovery.Testing;

/// <summary>The health status of an instance registered with <see cref="CloudMapApiTestServer"/>, as Cloud Map reports it.</summary>
public enum CloudMapHealthStatus
{
    /// <summary><c>HEALTHY</c>.</summary>
    Healthy,

    /// <summary><c>UNHEALTHY</c>.</summary>
    Unhealthy,

    /// <summary><c>UNKNOWN</c>: what Cloud Map reports for every instance of a service with no health check.</summary>
    Unknown,
}
