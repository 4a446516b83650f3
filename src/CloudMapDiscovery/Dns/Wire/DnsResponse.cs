namespace CloudMapDiscovery.Dns.Wire;

/// <summary>What one reply says about one question, once parsed.</summary>
internal sealed class DnsResponse
{
    public required DnsResponseCode ResponseCode { get; init; }

    public required List<DnsAddressRecord> Addresses { get; init; }

    public required List<DnsServiceRecord> Services { get; init; }

    public required List<DnsCanonicalNameRecord> CanonicalNames { get; init; }

    /// <summary>From the SOA in the authority section of a negative reply.</summary>
    public TimeSpan? NegativeTtl { get; init; }

    /// <summary>
    /// Set when the reply ends in a CNAME whose target it does not resolve (the server did not chase
    /// it, for example because it lies in another zone): the resolver must ask for that name.
    /// </summary>
    public string? UnfollowedTarget { get; init; }

    /// <summary>Set when the reply held more than <see cref="DnsLimits.MaxRecords"/> records for the question and only the first were kept.</summary>
    public bool ReachedRecordLimit { get; init; }
}
