namespace CloudMapDiscovery.Discovery;

/// <summary>
/// One published version of a service's endpoint set: immutable, swapped whole on refresh, so readers never lock
/// and consumers (the balancer, a service discovery provider) can tell versions apart by reference.
/// </summary>
internal sealed class ResolvedEndpoints
{
    public ResolvedEndpoints(DiscoveredEndpoint[] endpoints, TimeSpan ttl, long fetchedAt, string? negativeReason)
    {
        Endpoints = endpoints;
        Ttl = ttl;
        FetchedAt = fetchedAt;
        NegativeReason = negativeReason;
    }

    public DiscoveredEndpoint[] Endpoints { get; }

    /// <summary>The TTL in force, after the floor and cap.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>When DNS gave this answer (a clock timestamp).</summary>
    public long FetchedAt { get; }

    /// <summary>For an authoritative empty answer, what DNS said (NXDOMAIN or NODATA).</summary>
    public string? NegativeReason { get; }

    /// <summary>Whether <paramref name="other"/> lists the same endpoints (merged or not) in the same order.</summary>
    public bool SameEndpointsAs(ResolvedEndpoints? other)
        => other is not null && (NegativeReason is null) == (other.NegativeReason is null) && Endpoints.AsSpan().SequenceEqual(other.Endpoints);
}
