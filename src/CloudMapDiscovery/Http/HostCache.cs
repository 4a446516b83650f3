using System.Globalization;
using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Http;

/// <summary>
/// A host as a request wrote it (short name, trailing dot and all), the balancer this handler's rules resolved it to,
/// and the Host header text for it.
/// </summary>
/// <remarks>A handler remembers its last one: most clients call one service.</remarks>
internal sealed class HostCache
{
    private HostHeader? _hostHeader;

    public HostCache(string host, int port, ServiceBalancer balancer)
    {
        Host = host;
        Port = port;
        Balancer = balancer;
    }

    /// <summary>The URI's host as written (its IdnHost).</summary>
    public string Host { get; }

    /// <summary>The URI's port: health is kept per address and port, so each port has its balancer.</summary>
    public int Port { get; }

    public ServiceBalancer Balancer { get; }

    /// <summary>The Host header for a request to this route: the URI's authority, cached for the last port seen.</summary>
    public string HostHeaderFor(Uri uri)
    {
        var port = uri.IsDefaultPort ? -1 : uri.Port;
        var cached = Volatile.Read(ref _hostHeader);
        if (cached is not null && cached.Port == port)
        {
            return cached.Value;
        }

        cached = new HostHeader(port, port < 0 ? Host : string.Create(CultureInfo.InvariantCulture, $"{Host}:{port}"));
        Volatile.Write(ref _hostHeader, cached);
        return cached.Value;
    }

    private sealed record HostHeader(int Port, string Value);
}
