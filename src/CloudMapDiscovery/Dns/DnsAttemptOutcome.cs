namespace CloudMapDiscovery.Dns;

/// <summary>Why one exchange with one name server did not produce an answer.</summary>
public enum DnsAttemptOutcome
{
    /// <summary>No matching reply arrived within the per-attempt timeout.</summary>
    Timeout,

    /// <summary>The server answered SERVFAIL.</summary>
    ServerFailure,

    /// <summary>The server answered REFUSED.</summary>
    Refused,

    /// <summary>The server answered NOTIMP.</summary>
    NotImplemented,

    /// <summary>The server answered FORMERR (also to a query without EDNS).</summary>
    FormatError,

    /// <summary>The server answered with another error code.</summary>
    OtherResponseCode,

    /// <summary>The reply matched the query but could not be parsed.</summary>
    MalformedReply,

    /// <summary>The network refused the exchange (port unreachable, connection refused or reset, no route).</summary>
    NetworkError,
}
