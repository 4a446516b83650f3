namespace CloudMapDiscovery;

/// <summary>How a request chooses among a service's available addresses.</summary>
/// <remarks>
/// A request counts as in flight on its address from the moment it is sent until its response headers arrive or the
/// attempt fails; reading a streamed body afterwards does not count (the handler does not wrap response content).
/// </remarks>
public enum LoadBalancingPolicy
{
    /// <summary>Each address in turn.</summary>
    RoundRobin,

    /// <summary>Two distinct random addresses; the one with fewer requests in flight wins.</summary>
    PowerOfTwoChoices,

    /// <summary>
    /// Two distinct random addresses; the one with the lower peak-sensitive moving average of latency (decay 10 s) times
    /// its requests in flight plus one wins.
    /// </summary>
    PeakEwma,
}
