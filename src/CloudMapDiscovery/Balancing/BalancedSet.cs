using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Balancing;

/// <summary>One version of a service's endpoint set as the balancer sees it: each address with its health, in the source's order.</summary>
/// <remarks>Immutable: the balancer makes a new one for each new version, and requests pick from whichever they read.</remarks>
internal sealed class BalancedSet
{
    public static readonly BalancedSet Empty = new(0, [], null);

    public BalancedSet(long version, BalancedEndpoint[] endpoints, string? negativeReason, ZonePlan? zones = null)
    {
        Version = version;
        Endpoints = endpoints;
        NegativeReason = negativeReason;
        Zones = zones ?? ZonePlan.None;
    }

    /// <summary>The split by zone a pick starts from (<see cref="ZonePlan.None"/> when the endpoints carry no zones).</summary>
    public ZonePlan Zones { get; }

    /// <summary>The <see cref="EndpointSet.Version"/> this set was made from (0: none yet).</summary>
    public long Version { get; }

    public BalancedEndpoint[] Endpoints { get; }

    /// <summary>For an authoritative empty answer, what the source said.</summary>
    public string? NegativeReason { get; }

    /// <summary>The mean of the endpoints' latency estimates at <paramref name="coarseNow"/>, or 0 when none has one yet.</summary>
    /// <remarks>A new address starts here: neutral among its peers, neither favoured as idle nor shunned.</remarks>
    public double MeanEstimate(long coarseNow, double tau)
    {
        var estimates = Endpoints.Where(e => e.Load.HasEstimate).Select(e => e.Load.Estimate(coarseNow, tau)).ToList();
        return estimates.Count > 0 ? estimates.Average() : 0;
    }
}
