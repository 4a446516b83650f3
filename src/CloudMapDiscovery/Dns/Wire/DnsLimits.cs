namespace CloudMapDiscovery.Dns.Wire;

/// <summary>Bounds on what one reply may cost, whoever sent it.</summary>
/// <remarks>
/// A reply is at most 64 KB (TCP), so the bytes bound the walk; these bound what is kept and what is asked next. Each
/// is far above any real Cloud Map answer.
/// </remarks>
internal static class DnsLimits
{
    /// <summary>
    /// The most records one reply is turned into: A/AAAA answers, SRV records, and for SRV the endpoints (each record
    /// times its target's addresses, a record without addresses counting one).
    /// </summary>
    /// <remarks>
    /// Route 53 answers with at most 8 records and a Cloud Map service holds at most 1,000 instances, so only a broken
    /// or hostile server goes past it. Beyond it the rest is dropped and the first 1,000 are kept (and a warning
    /// logged), as a truncated reply would: those records are as good as any, and failing the answer would make a
    /// service that large undiscoverable on every server alike.
    /// </remarks>
    public const int MaxRecords = 1_000;

    /// <summary>
    /// The most distinct SRV targets asked for in follow-up queries when a reply omits their addresses (two queries
    /// each, A and AAAA).
    /// </summary>
    /// <remarks>Eight times Route 53's largest answer; targets past it keep no addresses.</remarks>
    public const int MaxTargetLookups = 64;
}
