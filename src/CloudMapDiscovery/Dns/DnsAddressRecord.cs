using System.Net;

namespace CloudMapDiscovery.Dns;

/// <summary>An A or AAAA record: one address of a host, with the TTL the server gave it.</summary>
/// <param name="Name">The owner name of the record (after any CNAME, the canonical name).</param>
/// <param name="Address">The IPv4 or IPv6 address.</param>
/// <param name="Ttl">How long the record may be cached, as sent by the server.</param>
public sealed record DnsAddressRecord(string Name, IPAddress Address, TimeSpan Ttl)
{
    /// <summary>Gets <see cref="DnsRecordType.A"/> for IPv4 and <see cref="DnsRecordType.AAAA"/> for IPv6.</summary>
    public DnsRecordType Type => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? DnsRecordType.AAAA : DnsRecordType.A;
}
