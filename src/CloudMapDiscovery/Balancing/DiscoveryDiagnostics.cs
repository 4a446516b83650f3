using CloudMapDiscovery.Diagnostics;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// <see cref="ICloudMapDiscoveryDiagnostics"/> over every resolved service of the process: with its endpoints'
/// health where a balancer keeps it, as DNS gave them where only a resolution consumer uses the service.
/// </summary>
internal sealed class DiscoveryDiagnostics : ICloudMapDiscoveryDiagnostics
{
    private readonly BalancerRegistry _balancers;

    public DiscoveryDiagnostics(BalancerRegistry balancers)
    {
        _balancers = balancers;
        balancers.Context.Metrics.ObserveEndpoints(GetSnapshot);
    }

    public IReadOnlyList<ServiceSnapshot> GetSnapshot()
    {
        var context = _balancers.Context;
        var balanced = _balancers.Caches.SelectMany(c => c.Balancers).Where(b => !b.IsRetired).ToList();
        var withBalancer = balanced.Select(b => b.Service).ToHashSet();
        var resolutionOnly = _balancers.Resolutions.Caches.SelectMany(c => c.Services).Where(s => !withBalancer.Contains(s));
        return [.. balanced.Select(b => ServiceSnapshots.Take(b.Service, b, context))
            .Concat(resolutionOnly.Select(s => ServiceSnapshots.Take(s, null, context)))
            .OrderBy(s => s.Host, StringComparer.Ordinal).ThenBy(s => s.RequestPort)];
    }
}
