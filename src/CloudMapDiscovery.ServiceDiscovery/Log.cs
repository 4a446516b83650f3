using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>The provider's log events (category <c>CloudMapDiscovery.ServiceDiscovery</c>).</summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Debug, "Cloud Map discovery resolves {Query} as {Host} ({RecordTypes})")]
    public static partial void Claimed(ILogger logger, string query, string host, DiscoveryRecordTypes recordTypes);

    [LoggerMessage(301, LogLevel.Debug, "Cloud Map discovery leaves {Query} to the other providers: an IP literal, localhost, or outside HostSuffixes")]
    public static partial void NotClaimed(ILogger logger, string query);

    [LoggerMessage(302, LogLevel.Debug, "Skipped {Host}: a provider before this one (configuration) already gave its endpoints")]
    public static partial void Skipped(ILogger logger, string host);

    [LoggerMessage(303, LogLevel.Debug, "Gave {Count} endpoint(s) of {Host}: {Endpoints}")]
    public static partial void Populated(ILogger logger, int count, string host, string endpoints);

    [LoggerMessage(304, LogLevel.Debug, "The endpoint set of {Host} changed ({Reason}); watchers resolve it again")]
    public static partial void SetChanged(ILogger logger, string host, string reason);

    [LoggerMessage(305, LogLevel.Warning, "A watcher of the endpoint set of {Host} failed while being told of a change")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, string host);

    [LoggerMessage(306, LogLevel.Warning, "{Endpoint} of {Host} failed its check ({Check}: {Reason}); it is left out of the endpoints given until a check passes")]
    public static partial void CheckFailed(ILogger logger, string endpoint, string host, string check, string reason);

    [LoggerMessage(307, LogLevel.Information, "{Endpoint} of {Host} passed its check again; it is back among the endpoints given")]
    public static partial void CheckPassed(ILogger logger, string endpoint, string host);
}
