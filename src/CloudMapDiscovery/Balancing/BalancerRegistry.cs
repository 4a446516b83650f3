using System.Collections.Concurrent;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// The process-wide owner of balancer caches (a DI singleton): clients whose discovery and balancing settings are
/// equal share one view of every endpoint's health; the resolution underneath is shared more widely, by discovery
/// settings alone.
/// </summary>
internal sealed class BalancerRegistry : IDisposable
{
    private readonly ConcurrentDictionary<(DiscoverySettings, BalancingSettings), Lazy<BalancingPartition>> _caches = new();

    public BalancerRegistry(DiscoveryRegistry resolutions, CallerZone? callerZone = null)
    {
        Resolutions = resolutions;
        CallerZone = callerZone ?? new CallerZone(ZoneDetectorSettings.Default(), resolutions.Context);
        Diagnostics = new DiscoveryDiagnostics(this);
    }

    /// <summary>Snapshots of every service; made with the registry so that the endpoint gauges exist from the start.</summary>
    public DiscoveryDiagnostics Diagnostics { get; }

    public DiscoveryRegistry Resolutions { get; }

    /// <summary>This process's zone, detected once for every balancer.</summary>
    public CallerZone CallerZone { get; }

    public CloudMapContext Context => Resolutions.Context;

    public int CacheCount => _caches.Count;

    public IEnumerable<BalancingPartition> Caches => _caches.Values.Where(l => l.IsValueCreated).Select(l => l.Value);

    public BalancingPartition GetCache(DiscoverySettings discovery, BalancingSettings balancing)
        => _caches.GetOrAdd((discovery, balancing), k => new Lazy<BalancingPartition>(() => new BalancingPartition(Resolutions.GetCache(k.Item1), k.Item2, Context, CallerZone))).Value;

    public void Dispose()
    {
        foreach (var cache in Caches)
        {
            cache.Dispose();
        }

        _caches.Clear();
    }
}
