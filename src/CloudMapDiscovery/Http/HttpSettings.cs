namespace CloudMapDiscovery.Http;

/// <summary>One client's HTTP behaviour: how a request chooses an address and how it is retried.</summary>
internal sealed record HttpSettings(int MaxAttempts, LoadBalancingPolicy LoadBalancer = LoadBalancingPolicy.RoundRobin);
