using System.Diagnostics;

namespace CloudMapDiscovery.Diagnostics;

/// <summary>
/// The names under which the library reports: one meter and one activity source, both <c>CloudMapDiscovery</c>
/// (<c>AddMeter("CloudMapDiscovery")</c> and <c>AddSource("CloudMapDiscovery")</c> in OpenTelemetry), and the tag keys,
/// which follow OpenTelemetry's naming: namespaced, with lower-case values.
/// </summary>
internal static class CloudMapTelemetry
{
    public const string Name = "CloudMapDiscovery";

    /// <summary>The service's host name (a Cloud Map service, such as <c>name.internal</c>).</summary>
    public const string ServerAddress = "server.address";

    public const string ErrorType = "error.type";

    /// <summary>Spans of DNS lookups and of each attempt a request makes on a task address.</summary>
    public static readonly ActivitySource Source = new(Name, typeof(CloudMapTelemetry).Assembly.GetName().Version?.ToString());
}
