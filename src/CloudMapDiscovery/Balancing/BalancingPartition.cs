using System.Collections.Concurrent;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// The balancers of every service of one resolution cache, for one set of <see cref="BalancingSettings"/>: every client
/// with these settings shares each service's endpoint health.
/// </summary>
/// <remarks>A balancer goes when its service is evicted.</remarks>
internal sealed class BalancingPartition : IDisposable
{
    private readonly ConcurrentDictionary<ServiceKey, ServiceBalancer> _balancers = new();
    private readonly CloudMapContext _context;
    private readonly CallerZone? _callerZone;

    public BalancingPartition(DiscoveryPartition resolutions, BalancingSettings settings, CloudMapContext context, CallerZone? callerZone = null)
    {
        _callerZone = callerZone;
        Resolutions = resolutions;
        Settings = settings;
        _context = context;
        resolutions.Evicted += OnEvicted;
    }

    public DiscoveryPartition Resolutions { get; }

    public BalancingSettings Settings { get; }

    public int Count => _balancers.Count;

    public IEnumerable<ServiceBalancer> Balancers => _balancers.Values;

    public ServiceBalancer GetBalancer(string host, DiscoveryRecordTypes recordTypes)
    {
        var key = new ServiceKey(host, recordTypes);
        while (true)
        {
            if (_balancers.TryGetValue(key, out var existing) && !existing.IsRetired)
            {
                return existing;
            }

            // New, or its service was evicted and is asked for again: a balancer for the (new) service replaces it.
            // Created outside the dictionary's factories, which may run more than once, so that a loser is disposed.
            var created = new ServiceBalancer(Resolutions.GetService(host, recordTypes), Settings, _context, _callerZone);
            if (existing is null ? _balancers.TryAdd(key, created) : _balancers.TryUpdate(key, created, existing))
            {
                existing?.Dispose();
                return created;
            }

            created.Dispose();
        }
    }

    public void Dispose()
    {
        Resolutions.Evicted -= OnEvicted;
        foreach (var balancer in _balancers.Values)
        {
            balancer.Dispose();
        }

        _balancers.Clear();
    }

    private void OnEvicted(DiscoveredService service)
    {
        if (_balancers.TryGetValue(service.Key, out var balancer) && ReferenceEquals(balancer.Service, service)
            && _balancers.TryRemove(new KeyValuePair<ServiceKey, ServiceBalancer>(service.Key, balancer)))
        {
            balancer.Dispose();
        }
    }
}
