using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Cli;

/// <summary><c>cloudmap serve --api-port</c>: the zone's records also served as Cloud Map instances through an in-process DiscoverInstances endpoint.</summary>
/// <remarks>
/// Each name with A/AAAA records is a service of namespace &lt;zone&gt; with one instance per address
/// (<c>AWS_INSTANCE_IPV4</c> / <c>AWS_INSTANCE_IPV6</c>); each name with SRV records is a service with one instance
/// per target (id: the target's first label, <c>AWS_INSTANCE_PORT</c>: the SRV port, the address: the target's).
/// Names that are only SRV targets are not services of their own.
/// </remarks>
internal static class ServeApi
{
    public static CloudMapApiTestServer Start(string zone, IPAddress address, int port, IReadOnlyList<(string Name, IPAddress Address)> records, IReadOnlyList<(string Name, ushort Port, string Target)> services)
    {
        var server = CloudMapApiTestServer.Start(new CloudMapApiTestServerOptions { Address = address, Port = port });
        var targets = services.Select(s => Relative(s.Target, zone)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, ip) in records.Where(r => !targets.Contains(r.Name)))
        {
            server.RegisterInstance(zone, name, ip.ToString(), Attributes(ip, null));
        }

        foreach (var (name, srvPort, target) in services)
        {
            var relative = Relative(target, zone);
            foreach (var (_, ip) in records.Where(r => r.Name.Equals(relative, StringComparison.OrdinalIgnoreCase)))
            {
                server.RegisterInstance(zone, name, relative.Split('.')[0], Attributes(ip, srvPort));
            }
        }

        return server;
    }

    private static Dictionary<string, string> Attributes(IPAddress ip, ushort? port)
    {
        var attributes = new Dictionary<string, string>
        {
            [ip.AddressFamily == AddressFamily.InterNetworkV6 ? "AWS_INSTANCE_IPV6" : "AWS_INSTANCE_IPV4"] = ip.ToString(),
        };
        if (port is { } p)
        {
            attributes["AWS_INSTANCE_PORT"] = p.ToString(CultureInfo.InvariantCulture);
        }

        return attributes;
    }

    // "task-a.name.internal." and "task-a.name" both name task-a.name in zone internal.
    private static string Relative(string name, string zone)
    {
        var trimmed = name.TrimEnd('.');
        return trimmed.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase) ? trimmed[..^(zone.Length + 1)] : trimmed;
    }
}
