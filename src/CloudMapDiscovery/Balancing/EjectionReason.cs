namespace CloudMapDiscovery.Balancing;

/// <summary>What a failed request says about the endpoint that failed it.</summary>
internal enum FailureCause
{
    /// <summary>The connection could not be made (refused, timed out, unreachable).</summary>
    Connect,

    /// <summary>The connection broke after the request may have been sent.</summary>
    Transport,

    /// <summary>The TLS handshake failed: the task accepts connections, so a connect proves nothing about it.</summary>
    Tls,

    /// <summary>The task answered with a 5xx status.</summary>
    ServerError,
}

/// <summary>Why an endpoint is out of the rotation.</summary>
/// <remarks>
/// Only <see cref="Connect"/> and <see cref="New"/> are re-admitted by a connect; every other reason means the task accepts connections,
/// so it is re-admitted by one trial request (or a health check when <c>HealthCheckPath</c> is set).
/// </remarks>
internal enum EjectionReason
{
    /// <summary>Not ejected.</summary>
    None,

    /// <summary>Consecutive connect failures (or a failed first probe of a new address).</summary>
    Connect,

    /// <summary>A new address held back until its first probe passes; it has failed nothing.</summary>
    New,

    /// <summary>Consecutive connections broken after sending.</summary>
    Transport,

    /// <summary>Consecutive TLS handshake failures.</summary>
    Tls,

    /// <summary>Consecutive 5xx responses.</summary>
    ServerErrors,

    /// <summary>A failure share far above its peers' over the detector's window.</summary>
    FailureRate,
}

internal static class EjectionReasons
{
    /// <summary>The reason's metric tag and diagnostic text.</summary>
    public static string Tag(this EjectionReason reason) => reason switch
    {
        EjectionReason.Connect => "connect",
        EjectionReason.New => "new",
        EjectionReason.Transport => "transport",
        EjectionReason.Tls => "tls",
        EjectionReason.ServerErrors => "server_errors",
        EjectionReason.FailureRate => "failure_rate",
        _ => "none",
    };

    /// <summary>The ejection reason of a failure that reached its threshold.</summary>
    public static EjectionReason ReasonOf(FailureCause cause) => cause switch
    {
        FailureCause.Connect => EjectionReason.Connect,
        FailureCause.Transport => EjectionReason.Transport,
        FailureCause.Tls => EjectionReason.Tls,
        _ => EjectionReason.ServerErrors,
    };
}
