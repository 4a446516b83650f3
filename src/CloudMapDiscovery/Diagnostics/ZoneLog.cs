using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Diagnostics;

/// <summary>The log events of zone-aware routing.</summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Information, "This process runs in Availability Zone {Zone} (zone ID {ZoneId}), from {Source}")]
    public static partial void CallerZoneFound(ILogger logger, string zone, string zoneId, string source);

    [LoggerMessage(301, LogLevel.Warning, "Zone-aware routing is off: this process's Availability Zone is unknown ({Tried}); set CloudMapDiscovery:Zone to turn it on")]
    public static partial void CallerZoneUnknown(ILogger logger, string tried);

    [LoggerMessage(302, LogLevel.Information, "Zone-aware routing on for {Host}: {Local} of {Total} endpoints are in {Zone}; requests stay there while at least {MinHealthyLocal} of them are available")]
    public static partial void ZoneRoutingOn(ILogger logger, string host, int local, int total, string zone, int minHealthyLocal);

    [LoggerMessage(303, LogLevel.Information, "Zone-aware routing off for {Host}: {Reason}")]
    public static partial void ZoneRoutingOff(ILogger logger, string host, string reason);
}
