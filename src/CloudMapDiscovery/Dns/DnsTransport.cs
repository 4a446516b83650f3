namespace CloudMapDiscovery.Dns;

/// <summary>How a DNS reply reached the resolver.</summary>
public enum DnsTransport
{
    /// <summary>A UDP datagram (the first choice, with EDNS(0)).</summary>
    Udp,

    /// <summary>A TCP stream, used when the UDP reply came back truncated.</summary>
    Tcp,
}
