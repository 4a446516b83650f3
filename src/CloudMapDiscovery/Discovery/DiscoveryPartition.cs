using System.Collections.Concurrent;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Discovery;

/// <summary>The resolved services for one set of <see cref="DiscoverySettings"/>, shared by every consumer with those settings.</summary>
/// <remarks>
/// Its <see cref="RefreshSweeper"/> refreshes names in use ahead of expiry and evicts names nobody uses; at most
/// <see cref="CacheSettings.MaxNames"/> names are kept, the least recently used unheld one going first.
/// </remarks>
internal sealed class DiscoveryPartition : IDisposable
{
    private readonly ConcurrentDictionary<ServiceKey, DiscoveredService> _services = new();
    private readonly IEndpointSource _source;
    private readonly CloudMapContext _context;
    private readonly RefreshSweeper _sweeper;
    private volatile bool _disposed;

    public DiscoveryPartition(DiscoverySettings settings, IEndpointSource source, CloudMapContext context)
    {
        Settings = settings;
        _source = source;
        _context = context;
        _sweeper = new RefreshSweeper(context, Sweep);
    }

    public DiscoverySettings Settings { get; }

    public int Count => _services.Count;

    public IEnumerable<DiscoveredService> Services => _services.Values;

    /// <summary>Raised when a service is dropped (idle, over the cap, or the cache is disposed), after it is retired.</summary>
    public event Action<DiscoveredService>? Evicted;

    public DiscoveredService GetService(string host, DiscoveryRecordTypes recordTypes)
    {
        var key = new ServiceKey(host, recordTypes);
        if (_services.TryGetValue(key, out var service))
        {
            return service;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        _sweeper.EnsureStarted();
        var added = _services.GetOrAdd(key, static (k, cache) => new DiscoveredService(k, cache.Settings.Cache, cache._source, cache._context), this);
        if (_services.Count > Settings.Cache.MaxNames)
        {
            EvictLeastRecentlyUsed(except: added);
        }

        return added;
    }

    public bool TryGetService(string host, DiscoveryRecordTypes recordTypes, out DiscoveredService? service)
        => _services.TryGetValue(new ServiceKey(host, recordTypes), out service);

    /// <summary>
    /// One sweep: drop idle services, refresh ahead those in use; returns the soonest refresh time left.
    /// </summary>
    /// <remarks>The timer calls it; tests may too.</remarks>
    internal long Sweep()
    {
        var soonest = long.MaxValue;
        if (_disposed)
        {
            return soonest;
        }

        // A timer callback that throws takes the process down: a failed sweep is logged and runs again in a second.
        try
        {
            var now = _context.Clock.GetTimestamp();
            var coarseNow = _context.CoarseNow();
            var idle = _context.ToCoarseTicks(Settings.Cache.IdleTimeout);
            foreach (var (_, service) in _services)
            {
                if (!service.IsHeld && coarseNow - service.LastUsed >= idle) // held first: a release records a use before it counts down
                {
                    Drop(service, $"unused for {Settings.Cache.IdleTimeout}");
                }
                else if (service.RefreshAheadIfDue(now) is var at && at > now && at < soonest)
                {
                    soonest = at;
                }
            }
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SweepFailed(_context.Logger, ex);
        }

        return soonest;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sweeper.Dispose();
        foreach (var service in _services.Values)
        {
            service.Retire();
            Evicted?.Invoke(service);
        }

        _services.Clear();
    }

    // Over the cap: a scan, but only when a name beyond the cap is added (a process that calls thousands of hosts).
    private void EvictLeastRecentlyUsed(DiscoveredService except)
    {
        DiscoveredService? oldest = null;
        foreach (var (_, service) in _services)
        {
            if (!ReferenceEquals(service, except) && !service.IsHeld && (oldest is null || service.LastUsed < oldest.LastUsed))
            {
                oldest = service;
            }
        }

        if (oldest is not null)
        {
            Drop(oldest, $"over the cap of {Settings.Cache.MaxNames} names");
        }
    }

    private void Drop(DiscoveredService service, string why)
    {
        if (_services.TryRemove(new KeyValuePair<ServiceKey, DiscoveredService>(service.Key, service)))
        {
            service.Retire();
            Evicted?.Invoke(service);
            Log.Evicted(_context.Logger, service.Key.Host, why);
        }
    }
}
