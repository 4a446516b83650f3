using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Balancing;

/// <summary>One version of a service's endpoint set as the balancer sees it: each address with its health, in the order DNS gave.</summary>
internal sealed class BalancedSet
{
    public static readonly BalancedSet Empty = new(null, []);

    public BalancedSet(ResolvedEndpoints? source, BalancedEndpoint[] endpoints)
    {
        Source = source;
        Endpoints = endpoints;
    }

    /// <summary>The published version this set was made from.</summary>
    public ResolvedEndpoints? Source { get; }

    public BalancedEndpoint[] Endpoints { get; }

    /// <summary>For an authoritative empty answer, what DNS said.</summary>
    public string? NegativeReason => Source?.NegativeReason;
}
