using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Api;

/// <summary>The API source's log events (category <c>CloudMapDiscovery.Api</c>); none carries credentials.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Cloud Map {Operation} for {Host} was throttled ({ErrorCode}): the last good answer is kept and the next call waits at least {Backoff}")]
    public static partial void Throttled(ILogger logger, string operation, string host, string errorCode, TimeSpan backoff);

    [LoggerMessage(2, LogLevel.Warning, "Cloud Map instance {InstanceId} of {Host} is skipped: {Reason}")]
    public static partial void InstanceSkipped(ILogger logger, string host, string instanceId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "The process's Cloud Map API budget ({Rate} calls/s) is spent: {Host} keeps its last answer until a call is allowed")]
    public static partial void BudgetSpent(ILogger logger, string host, double rate);

    [LoggerMessage(4, LogLevel.Debug, "Cloud Map {Operation} for {Host}: revision {Revision}, {Count} instance(s)")]
    public static partial void Called(ILogger logger, string operation, string host, long revision, int count);
}
