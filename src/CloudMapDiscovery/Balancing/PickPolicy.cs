using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>How a pick chooses among the candidates: round robin, or the less loaded of two drawn at random.</summary>
/// <remarks>
/// A policy only chooses; which endpoints are candidates is <see cref="Candidates"/>'s rule, and what happens when
/// there are none is <see cref="EndpointPicker"/>'s. One instance per client; it holds no per-request state.
/// </remarks>
internal abstract class PickPolicy
{
    /// <summary>Whether the handler must time each attempt for this policy (the latency estimate).</summary>
    public virtual bool MeasuresLatency => false;

    public static PickPolicy For(LoadBalancingPolicy policy, CloudMapContext context) => policy switch
    {
        LoadBalancingPolicy.PowerOfTwoChoices => new PowerOfTwoChoicesPolicy(),
        LoadBalancingPolicy.PeakEwma => new PeakEwmaPolicy(context),
        _ => RoundRobinPolicy.Instance,
    };

    /// <summary>Chooses one of the candidates among <paramref name="endpoints"/>; <see langword="null"/> when there is none.</summary>
    /// <param name="endpoints">The set, in the source's order.</param>
    /// <param name="counter">The service's round-robin counter.</param>
    /// <param name="candidates">Which endpoints may be chosen.</param>
    public abstract BalancedEndpoint? Choose(BalancedEndpoint[] endpoints, ref uint counter, ref Candidates candidates);
}
