namespace CloudMapDiscovery.Discovery;

/// <summary>One published answer for a service: its endpoint set, TTL and time, with a version that grows when the set changes.</summary>
/// <remarks>
/// Immutable, swapped whole on refresh, so readers never lock. Consumers (the balancer, a service discovery
/// provider) go by <see cref="Version"/>: it grows by one each time the set of endpoints changes, and stays when
/// the source only reordered it (Route 53 shuffles every MULTIVALUE answer) or repeated it with a new TTL.
/// </remarks>
internal sealed class EndpointSet
{
    private EndpointSet(DiscoveredEndpoint[] endpoints, long version, TimeSpan ttl, long fetchedAt, string? negativeReason)
    {
        Endpoints = endpoints;
        Version = version;
        Ttl = ttl;
        FetchedAt = fetchedAt;
        NegativeReason = negativeReason;
    }

    public DiscoveredEndpoint[] Endpoints { get; }

    /// <summary>Grows by one with each change of the endpoint set (1 for the first answer).</summary>
    public long Version { get; }

    /// <summary>The TTL in force, after the floor and cap.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>When the source gave this answer (a clock timestamp).</summary>
    public long FetchedAt { get; }

    /// <summary>For an authoritative empty answer, what the source said (NXDOMAIN or NODATA).</summary>
    public string? NegativeReason { get; }

    /// <summary>The answer after <paramref name="previous"/>: a new version only when the endpoint set differs from it.</summary>
    public static EndpointSet Next(EndpointSet? previous, DiscoveredEndpoint[] endpoints, TimeSpan ttl, long fetchedAt, string? negativeReason)
    {
        if (previous is null)
        {
            return new EndpointSet(endpoints, 1, ttl, fetchedAt, negativeReason);
        }

        var same = SameSet(previous.Endpoints, endpoints) && (previous.NegativeReason is null) == (negativeReason is null);
        return new EndpointSet(endpoints, same ? previous.Version : previous.Version + 1, ttl, fetchedAt, negativeReason);
    }

    // Sets of a few dozen endpoints at most (1,000 through the API): a hash set only past a handful.
    private static bool SameSet(DiscoveredEndpoint[] a, DiscoveredEndpoint[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        if (a.AsSpan().SequenceEqual(b))
        {
            return true;
        }

        if (a.Length <= 8)
        {
            foreach (var e in b)
            {
                if (Array.IndexOf(a, e) < 0)
                {
                    return false;
                }
            }

            return true; // no duplicates: the merge keeps each address once
        }

        return new HashSet<DiscoveredEndpoint>(a).SetEquals(b);
    }
}
