using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Discovery;

/// <summary>An immutable snapshot of a service's endpoints, swapped whole on refresh so that readers never lock.</summary>
internal sealed class EndpointSet
{
    public EndpointSet(ServiceEndpoint[] endpoints, TimeSpan ttl, long fetchedAt, string? negativeReason)
    {
        Endpoints = endpoints;
        Ttl = ttl;
        FetchedAt = fetchedAt;
        NegativeReason = negativeReason;
    }

    public ServiceEndpoint[] Endpoints { get; }

    /// <summary>The TTL in force, after the floor and cap.</summary>
    public TimeSpan Ttl { get; }

    public long FetchedAt { get; }

    /// <summary>For an authoritative empty answer, what DNS said (NXDOMAIN or NODATA).</summary>
    public string? NegativeReason { get; }
}
