using System.Net;

namespace CloudMapDiscovery.Dns;

/// <summary>The answer to one question, as the resolver saw it.</summary>
/// <remarks>
/// NXDOMAIN and NODATA are answers, not errors: <see cref="IsNegative"/> tells them apart from an answer with records.
/// </remarks>
public sealed class DnsQueryResult
{
    /// <summary>Creates a result; the resolver (and the library's tests) make these.</summary>
    internal DnsQueryResult(
        string name,
        DnsRecordType type,
        DnsResponseCode responseCode,
        IPEndPoint server,
        DnsTransport transport,
        IReadOnlyList<DnsAddressRecord> addresses,
        IReadOnlyList<DnsServiceRecord> services,
        IReadOnlyList<DnsCanonicalNameRecord> canonicalNames,
        TimeSpan? negativeTtl,
        TimeSpan elapsed)
    {
        Name = name;
        Type = type;
        ResponseCode = responseCode;
        Server = server;
        Transport = transport;
        Addresses = addresses;
        Services = services;
        CanonicalNames = canonicalNames;
        NegativeTtl = negativeTtl;
        Elapsed = elapsed;
    }

    /// <summary>Gets the name that was asked.</summary>
    public string Name { get; }

    /// <summary>Gets the record type that was asked.</summary>
    public DnsRecordType Type { get; }

    /// <summary>Gets the reply's response code: <see cref="DnsResponseCode.NoError"/> or <see cref="DnsResponseCode.NXDomain"/>; other codes surface as <see cref="DnsResolutionException"/>.</summary>
    public DnsResponseCode ResponseCode { get; }

    /// <summary>Gets the name server that gave the answer.</summary>
    public IPEndPoint Server { get; }

    /// <summary>Gets how the answer arrived (UDP, or TCP after a truncated UDP reply).</summary>
    public DnsTransport Transport { get; }

    /// <summary>Gets the A/AAAA answers for an A or AAAA question.</summary>
    public IReadOnlyList<DnsAddressRecord> Addresses { get; }

    /// <summary>Gets the SRV answers for an SRV question.</summary>
    public IReadOnlyList<DnsServiceRecord> Services { get; }

    /// <summary>Gets the CNAME chain from <see cref="Name"/> to <see cref="CanonicalName"/>; empty when the name is not an alias.</summary>
    public IReadOnlyList<DnsCanonicalNameRecord> CanonicalNames { get; }

    /// <summary>Gets the name the records belong to: the end of the CNAME chain, or <see cref="Name"/>.</summary>
    public string CanonicalName => CanonicalNames.Count == 0 ? Name : CanonicalNames[^1].Target;

    /// <summary>Gets the negative-caching TTL (the lesser of the SOA record's TTL and its MINIMUM field) for a negative answer that carried an SOA.</summary>
    public TimeSpan? NegativeTtl { get; }

    /// <summary>Gets how long the resolution took, including retries and follow-up queries.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Gets a value indicating whether the answer holds no records of the asked type (NXDOMAIN or NODATA).</summary>
    public bool IsNegative => Addresses.Count == 0 && Services.Count == 0;

    /// <summary>
    /// Gets how long the whole answer may be cached: the smallest TTL among its records and CNAME links,
    /// or <see cref="NegativeTtl"/> for a negative answer (<see langword="null"/> when it carried no SOA).
    /// </summary>
    public TimeSpan? Ttl => IsNegative ? NegativeTtl
        : Addresses.Select(a => a.Ttl)
            .Concat(Services.SelectMany(s => s.Addresses.Select(a => a.Ttl).Append(s.Ttl)))
            .Concat(CanonicalNames.Select(c => c.Ttl))
            .Min();
}
