using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Diagnostics;

/// <summary>The library's log events, source-generated so that a disabled level costs nothing.</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Debug, "Resolved {Host}: {Count} endpoint(s) [{Endpoints}], TTL {Ttl} (from {Source})")]
    public static partial void Resolved(ILogger logger, string host, int count, string endpoints, TimeSpan ttl, string source);

    [LoggerMessage(101, LogLevel.Information, "{Host} has no instances ({Reason}); asking again in {Ttl}")]
    public static partial void NoInstances(ILogger logger, string host, string reason, TimeSpan ttl);

    [LoggerMessage(102, LogLevel.Warning, "Refreshing {Host} failed; serving the last good answer (stale) and retrying in {Backoff}: {Reason}")]
    public static partial void ServingStale(ILogger logger, string host, TimeSpan backoff, string reason);

    [LoggerMessage(103, LogLevel.Error, "Resolving {Host} failed and no usable answer is left; retrying in {Backoff}: {Reason}")]
    public static partial void ResolveFailed(ILogger logger, string host, TimeSpan backoff, string reason);

    [LoggerMessage(104, LogLevel.Warning, "Ejected {Endpoint} of {Host} for {Duration} ({Reason}) after {Failures} consecutive failure(s)")]
    public static partial void Ejected(ILogger logger, string endpoint, string host, TimeSpan duration, string reason, int failures);

    [LoggerMessage(105, LogLevel.Information, "Re-admitted {Endpoint} of {Host}")]
    public static partial void Readmitted(ILogger logger, string endpoint, string host);

    [LoggerMessage(106, LogLevel.Debug, "Evicted {Host} from the endpoint cache: {Reason}")]
    public static partial void Evicted(ILogger logger, string host, string reason);

    [LoggerMessage(107, LogLevel.Warning, "Request to {Host} failed on {Endpoint} (attempt {Attempt}); retrying on another address: {Reason}")]
    public static partial void RetryingElsewhere(ILogger logger, string host, string endpoint, int attempt, string reason);

    [LoggerMessage(200, LogLevel.Debug, "DNS exchange for {Name} ({Type}) failed: {Failure}")]
    public static partial void DnsExchangeFailed(ILogger logger, string name, Dns.DnsRecordType type, string failure);

    [LoggerMessage(201, LogLevel.Warning, "DNS lookup of {Name} ({Type}) failed: {Reason}")]
    public static partial void DnsQueryFailed(ILogger logger, string name, Dns.DnsRecordType type, string reason);

    [LoggerMessage(202, LogLevel.Warning, "Could not resolve SRV target {Target} of {Name}: {Reason}")]
    public static partial void DnsServiceTargetFailed(ILogger logger, string target, string name, string reason);

    [LoggerMessage(203, LogLevel.Warning, "The DNS reply for {Name} ({Type}) from {Server} held more than {Limit} records for the question; the first {Limit} are kept")]
    public static partial void DnsRecordLimitReached(ILogger logger, string name, Dns.DnsRecordType type, System.Net.IPEndPoint server, int limit);

    [LoggerMessage(204, LogLevel.Warning, "The SRV answer for {Name} names more than {Limit} targets without addresses; {Skipped} record(s) past them are left without addresses")]
    public static partial void DnsServiceTargetsSkipped(ILogger logger, string name, int limit, int skipped);

    [LoggerMessage(110, LogLevel.Debug, "Probing {Endpoint} of {Host} before it takes requests: {Check}")]
    public static partial void Probing(ILogger logger, string endpoint, string host, string check);

    [LoggerMessage(111, LogLevel.Information, "Re-admitted {Endpoint} of {Host}: a connect to it succeeded")]
    public static partial void ProbeSucceeded(ILogger logger, string endpoint, string host);

    [LoggerMessage(112, LogLevel.Warning, "Probe of {Endpoint} of {Host} failed ({Reason}); ejected for {Duration} until the next probe")]
    public static partial void ProbeFailed(ILogger logger, string endpoint, string host, string reason, TimeSpan duration);

    [LoggerMessage(113, LogLevel.Information, "{Endpoint} is new in {Host}; it takes requests once a connect to it succeeds")]
    public static partial void HeldForProbe(ILogger logger, string endpoint, string host);

    [LoggerMessage(116, LogLevel.Warning, "{Endpoint} of {Host} reached its ejection threshold ({Reason}) but stays in the rotation: MaxEjectionPercent ({Percent} %) of the service's addresses are out for their responses already")]
    public static partial void EjectionBudgetSpent(ILogger logger, string endpoint, string host, string reason, int percent);

    [LoggerMessage(115, LogLevel.Information, "The ejection of {Endpoint} of {Host} is over; its next request is a trial that re-admits it or ejects it again")]
    public static partial void TrialOffered(ILogger logger, string endpoint, string host);

    [LoggerMessage(114, LogLevel.Error, "A listener to the endpoints of {Host} threw when they changed; the other listeners were told")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, string host);

    [LoggerMessage(109, LogLevel.Error, "The endpoint cache sweep failed; it runs again in a second")]
    public static partial void SweepFailed(ILogger logger, Exception exception);
}
