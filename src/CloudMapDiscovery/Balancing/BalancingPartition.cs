using System.Collections.Concurrent;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// The balancers of every service of one resolution cache, for one set of <see cref="BalancingSettings"/>: every client
/// with these settings shares each service's endpoint health.
/// </summary>
/// <remarks>
/// A balancer goes when its service is evicted. A/AAAA services have a balancer per request port (health is per address
/// and port); SRV services one, whose ports come from DNS.
/// </remarks>
internal sealed class BalancingPartition : IDisposable
{
    private readonly ConcurrentDictionary<BalancerKey, ServiceBalancer> _balancers = new();
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

    /// <summary>The balancer of <paramref name="host"/> for requests to <paramref name="port"/> (ignored for SRV).</summary>
    public ServiceBalancer GetBalancer(string host, DiscoveryRecordTypes recordTypes, int? port = null, string scheme = "http")
    {
        var requestPort = recordTypes == DiscoveryRecordTypes.Srv ? null : port;
        var key = new BalancerKey(host, recordTypes, requestPort ?? 0);
        while (true)
        {
            if (_balancers.TryGetValue(key, out var existing) && !existing.IsRetired)
            {
                return existing;
            }

            // New, or its service was evicted and is asked for again: a balancer for the (new) service replaces it.
            // Created outside the dictionary's factories, which may run more than once, so that a loser is disposed.
            var created = new ServiceBalancer(Resolutions.GetService(host, recordTypes), Settings, _context, requestPort, scheme, _callerZone);
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
        foreach (var entry in _balancers)
        {
            if (ReferenceEquals(entry.Value.Service, service) && _balancers.TryRemove(entry))
            {
                entry.Value.Dispose();
            }
        }
    }
}

/// <summary>A balancer's key: the service's host and record types, and the request port (0 for SRV or none).</summary>
/// <remarks>Flat rather than a tuple holding a <see cref="ServiceKey"/>: it is hashed on every lookup by host.</remarks>
internal readonly record struct BalancerKey(string Host, DiscoveryRecordTypes RecordTypes, int Port);
