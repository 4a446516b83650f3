namespace CloudMapDiscovery.Dns;

/// <summary>DNS resource record types the resolver understands (RFC 1035, RFC 2782, RFC 3596, RFC 6891).</summary>
public enum DnsRecordType : ushort
{
    /// <summary>An IPv4 host address.</summary>
    A = 1,

    /// <summary>An authoritative name server.</summary>
    NS = 2,

    /// <summary>The canonical name for an alias.</summary>
    CNAME = 5,

    /// <summary>The start of a zone of authority; carries the negative-caching TTL.</summary>
    SOA = 6,

    /// <summary>Text strings.</summary>
    TXT = 16,

    /// <summary>An IPv6 host address.</summary>
    AAAA = 28,

    /// <summary>A service locator: priority, weight, port and target host.</summary>
    SRV = 33,

    /// <summary>The EDNS(0) pseudo-record.</summary>
    OPT = 41,
}
