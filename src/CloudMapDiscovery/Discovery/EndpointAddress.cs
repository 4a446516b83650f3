using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Discovery;

/// <summary>One task address, with the port DNS gave for it (SRV) or <see langword="null"/> (A/AAAA: the caller's port).</summary>
internal readonly record struct EndpointAddress(IPAddress Address, int? Port)
{
    /// <summary>The address as it is written in a URI authority: IPv6 in brackets.</summary>
    public string HostText => Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();

    public override string ToString() => Port is { } port ? string.Create(CultureInfo.InvariantCulture, $"{HostText}:{port}") : HostText;
}

/// <summary>An address in a published endpoint set, and whether only the MULTIVALUE merge keeps it there.</summary>
internal readonly record struct DiscoveredEndpoint(EndpointAddress Address, bool IsMerged)
{
    /// <summary>The instance the address belongs to, where the source names one (an SRV target), else <see langword="null"/>.</summary>
    public string? Target { get; init; }
}
