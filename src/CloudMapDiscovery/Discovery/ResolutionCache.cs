using System.Collections.Concurrent;
using CloudMapDiscovery.Diagnostics;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The resolved services for one set of <see cref="DiscoverySettings"/>, shared by every consumer with those
/// settings. Its <see cref="RefreshSweeper"/> refreshes warm names ahead of expiry and evicts names nobody uses.
/// </summary>
internal sealed class ResolutionCache : IDisposable
{
    private readonly ConcurrentDictionary<ServiceKey, ResolvedService> _services = new();
    private readonly DnsServiceSource _source;
    private readonly CloudMapContext _context;
    private readonly RefreshSweeper _sweeper;
    private volatile bool _disposed;

    public ResolutionCache(DiscoverySettings settings, DnsServiceSource source, CloudMapContext context)
    {
        Settings = settings;
        _source = source;
        _context = context;
        _sweeper = new RefreshSweeper(context, Sweep);
    }

    public DiscoverySettings Settings { get; }

    public int Count => _services.Count;

    public IEnumerable<ResolvedService> Services => _services.Values;

    /// <summary>Raised when a service is dropped (idle, or the cache is disposed), after it is retired.</summary>
    public event Action<ResolvedService>? Evicted;

    public ResolvedService GetService(string host, DiscoveryRecordTypes recordTypes)
    {
        var key = new ServiceKey(host, recordTypes);
        if (_services.TryGetValue(key, out var service))
        {
            return service;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        _sweeper.EnsureStarted();
        return _services.GetOrAdd(key, static (k, cache) => new ResolvedService(k, cache.Settings.Cache, cache._source, cache._context, cache._sweeper), this);
    }

    public bool TryGetService(string host, DiscoveryRecordTypes recordTypes, out ResolvedService? service)
        => _services.TryGetValue(new ServiceKey(host, recordTypes), out service);

    /// <summary>One sweep: refresh warm services that are due, drop idle ones. The timer calls it; tests may too.</summary>
    internal void Sweep()
    {
        if (_disposed)
        {
            return;
        }

        _sweeper.BeginSweep();

        // A timer callback that throws takes the process down: a failed sweep is logged and tried again at the next
        // wake, with the refresh times it found before failing.
        var soonest = long.MaxValue;
        try
        {
            SweepCore(ref soonest);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SweepFailed(_context.Logger, ex);
        }

        try
        {
            _sweeper.Rearm(soonest);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SweepFailed(_context.Logger, ex);
        }
    }

    // Finds the soonest refresh time still ahead, so that the sweeper wakes for it.
    private void SweepCore(ref long soonest)
    {
        var now = _context.Clock.GetTimestamp();
        var idle = _context.ToTicks(Settings.Cache.IdleTimeout);
        foreach (var (key, service) in _services)
        {
            service.OnSweep(now); // first: it records a recent use that the idle check must see
            if (!service.IsHeld && now - service.LastUsed >= idle) // held first: a release records a use before it counts down
            {
                if (_services.TryRemove(new KeyValuePair<ServiceKey, ResolvedService>(key, service)))
                {
                    Drop(service);
                    Log.Evicted(_context.Logger, key.Host, Settings.Cache.IdleTimeout);
                }

                continue;
            }

            // Every name DNS answered once, until it is evicted, and every held one: a name whose stale answer ran out
            // during an outage may have only watchers left (YARP asks again only when its change token fires), and they
            // learn of the recovery from this refresh, at the end of each backoff. A name never answered nor held is
            // asked for by its callers.
            if ((service.Status.LastRefresh != 0 || service.IsHeld) && service.Refresher.IsDue(now))
            {
                service.Refresher.Start();
            }

            var at = service.RefreshAt;
            if (at > now && at < soonest)
            {
                soonest = at;
            }
        }
    }

    private void Drop(ResolvedService service)
    {
        service.Retire();
        Evicted?.Invoke(service);
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
            Drop(service);
        }

        _services.Clear();
    }
}
