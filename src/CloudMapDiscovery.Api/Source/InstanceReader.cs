using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Api.Client;

namespace CloudMapDiscovery.Api.Source;

/// <summary>Turns the API's instance summaries into endpoints: address from <c>AWS_INSTANCE_IPV4</c> / <c>AWS_INSTANCE_IPV6</c>, port from <c>AWS_INSTANCE_PORT</c>.</summary>
internal static class InstanceReader
{
    public const string Ipv4 = "AWS_INSTANCE_IPV4";
    public const string Ipv6 = "AWS_INSTANCE_IPV6";
    public const string Port = "AWS_INSTANCE_PORT";

    /// <summary>The usable instances, and for each unusable one its id and why.</summary>
    public static (List<CloudMapInstance> Usable, List<(string Id, string Reason)> Skipped) Read(IReadOnlyList<InstanceSummary> instances)
    {
        var usable = new List<CloudMapInstance>(instances.Count);
        var skipped = new List<(string, string)>();
        foreach (var summary in instances)
        {
            var id = summary.InstanceId ?? string.Empty;
            var attributes = summary.Attributes ?? [];
            if (id.Length == 0)
            {
                skipped.Add(("(no id)", "the reply gives no InstanceId"));
                continue;
            }

            if (Address(attributes) is not { } address)
            {
                skipped.Add((id, $"no usable {Ipv4} or {Ipv6} attribute (an instance registered with a CNAME or an alias has none)"));
                continue;
            }

            int? port = null;
            if (attributes.TryGetValue(Port, out var text))
            {
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                {
                    skipped.Add((id, $"{Port} '{text}' is not a port"));
                    continue;
                }

                port = p;
            }

            usable.Add(new CloudMapInstance(address, port, id, attributes));
        }

        return (usable, skipped);
    }

    private static IPAddress? Address(Dictionary<string, string> attributes)
    {
        if (attributes.TryGetValue(Ipv4, out var v4) && IPAddress.TryParse(v4, out var a) && a.AddressFamily == AddressFamily.InterNetwork)
        {
            return a;
        }

        return attributes.TryGetValue(Ipv6, out var v6) && IPAddress.TryParse(v6, out var b) && b.AddressFamily == AddressFamily.InterNetworkV6 ? b : null;
    }
}
