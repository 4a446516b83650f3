using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Primitives;

namespace CloudMapDiscovery.Discovery;

/// <summary>The one owner of a service name's state: its answer, its single refresh in flight, its use and its listeners.</summary>
/// <remarks>
/// Requests read the published <see cref="DiscoveryState"/> and change nothing but the time of last use. One
/// refresh runs at a time (every caller shares it); its outcome goes through the pure rules of
/// <see cref="DiscoveryRules"/> and is published in one step: listeners (balancers) hear of a new endpoint set
/// before requests can see it, and the change token fires after. The sweeper only evicts names and starts the
/// refresh ahead of expiry of names used since their last answer. It knows nothing of health, picking or HTTP.
/// </remarks>
internal sealed class DiscoveredService
{
    /// <summary>How many refreshes in a row the sweeper makes ahead of expiry for a name no request used meanwhile.</summary>
    public const int MaxUnusedRefreshes = 2;

    private readonly CloudMapContext _context;
    private readonly CacheSettings _settings;
    private readonly IEndpointSource _source;
    private readonly long _touchInterval;
    private readonly object _gate = new();
    private readonly MultiValueMerge _merge = new();
    private readonly EndpointFeed _feed;
    private volatile DiscoveryState _status = DiscoveryState.Initial;
    private Task? _refresh;
    private IDisposable? _tracked;       // the source's state for this name, kept from the first refresh until retired
    private volatile bool _retired;
    private long _lastUsed;              // coarse clock
    private int _holders;

    public DiscoveredService(ServiceKey key, CacheSettings settings, IEndpointSource source, CloudMapContext context)
    {
        Key = key;
        _context = context;
        _settings = settings;
        _source = source;

        // The time of last use is stored at most this often, so that concurrent requests mostly read its cache line.
        _touchInterval = Math.Min(context.ToCoarseTicks(TimeSpan.FromSeconds(0.25)), context.ToCoarseTicks(settings.IdleTimeout / 16));
        _lastUsed = context.CoarseNow();
        _feed = new EndpointFeed(context.Logger, key.Host);
    }

    public ServiceKey Key { get; }

    /// <summary>Set once the cache has dropped this service (idle, or disposed): holders must look the name up again.</summary>
    public bool IsRetired => _retired;

    /// <summary>When a request last used the service (a coarse reading, <see cref="CloudMapContext.CoarseNow"/>).</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Whether a consumer holds the service (see <see cref="Hold"/>): it is then neither evicted nor left to expire.</summary>
    public bool IsHeld => Volatile.Read(ref _holders) > 0;

    /// <summary>The refresh in flight or last run, if any (tests await it).</summary>
    public Task? PendingRefresh => Volatile.Read(ref _refresh);

    /// <summary>The endpoint set in use, or <see langword="null"/> when there is no usable answer.</summary>
    public EndpointSet? Current => _status.Current;

    public DiscoveryState Status => _status;

    /// <summary>The current set while it is fresh, else <see langword="null"/> (then call <see cref="GetAsync"/>).</summary>
    /// <remarks>Every request comes through here: one coarse clock read, no precise one, no write but the occasional time of use.</remarks>
    public EndpointSet? TryGetFresh()
    {
        var status = _status;
        var now = _context.CoarseNow();
        if (status.Current is not { } set || now >= status.FreshUntil)
        {
            return null;
        }

        Touch(now);
        _context.Metrics.CacheLookup(Key.Host, status.IsStale ? "stale" : "hit");
        return set;
    }

    /// <summary>The current endpoints: synchronous while there is a usable answer, waiting for the shared refresh only when there is none.</summary>
    public ValueTask<EndpointSet> GetAsync(CancellationToken cancellationToken)
        => TryGetFresh() is { } set ? new ValueTask<EndpointSet>(set) : GetCheckingClock(cancellationToken);

    /// <summary>A token that fires when the endpoint set changes (not on a refresh that changed nothing) or the service is retired.</summary>
    public IChangeToken GetChangeToken() => _feed.GetChangeToken();

    /// <summary>Calls <paramref name="listener"/> with every new version of the endpoint set, starting with the current one, until disposed.</summary>
    /// <remarks>A version reaches its listeners before any request can see it, one version at a time, in order.</remarks>
    public IDisposable Subscribe(Action<EndpointSet> listener)
    {
        lock (_gate)
        {
            _feed.Add(listener);
        }

        return new Releaser(() =>
        {
            lock (_gate)
            {
                _feed.Remove(listener);
            }
        });
    }

    /// <summary>A consumer saw <paramref name="address"/> fail: the MULTIVALUE merge no longer keeps it once DNS leaves it out.</summary>
    public void Distrust(EndpointAddress address) => _merge.Distrust(address);

    /// <summary>A consumer saw <paramref name="address"/> work again after failing.</summary>
    public void Trust(EndpointAddress address) => _merge.Trust(address);

    /// <summary>Keeps the service refreshed and from idle eviction until the returned object is disposed.</summary>
    /// <remarks>
    /// For a consumer that follows the change token instead of asking for every request (a
    /// Microsoft.Extensions.ServiceDiscovery watcher, which calls only when the token fires). Idle time counts from
    /// the last release.
    /// </remarks>
    public IDisposable Hold()
    {
        Interlocked.Increment(ref _holders);
        return new Releaser(Release);
    }

    /// <summary>The cache dropped the service: holders are told, and the source may let go of what it keeps for the name.</summary>
    public void Retire()
    {
        IDisposable? tracked;
        lock (_gate)
        {
            _retired = true;
            tracked = _tracked;
            _tracked = null;
        }

        tracked?.Dispose();
        _feed.Signal();
    }

    /// <summary>The sweeper's call: starts the refresh ahead of expiry if it is due and the name is held or in use; returns its refresh time.</summary>
    /// <remarks>
    /// In use means held, watched through its change token (a consumer that re-reads only when the token fires, as
    /// YARP does through Microsoft.Extensions.ServiceDiscovery, learns of a change only from this refresh), or used
    /// by a request since one of its last <see cref="MaxUnusedRefreshes"/> refreshes: a name used now and then never
    /// waits for DNS, and one asked for once (a typo, a one-off host) costs at most three queries, not one every TTL
    /// until it is evicted. A name never answered is asked for by its next request.
    /// </remarks>
    public long RefreshAheadIfDue(long now)
    {
        var status = _status;
        var wanted = IsHeld || _feed.IsWatched || (status.LastRefresh != 0 && status.UnusedRefreshes < MaxUnusedRefreshes);
        if (!wanted)
        {
            return long.MaxValue;
        }

        if (now >= status.RefreshAt)
        {
            StartRefresh();
        }

        return status.RefreshAt;
    }

    private void Touch(long now)
    {
        var last = Volatile.Read(ref _lastUsed);
        if (now - last >= _touchInterval)
        {
            Volatile.Write(ref _lastUsed, now);
        }
    }

    private ValueTask<EndpointSet> GetCheckingClock(CancellationToken cancellationToken)
    {
        var status = _status;
        Touch(_context.CoarseNow());
        var now = _context.Clock.GetTimestamp();
        if (status.Current is { } set && now < status.UsableUntil)
        {
            _context.Metrics.CacheLookup(Key.Host, status.IsStale ? "stale" : "hit");
            if (now >= status.RefreshAt)
            {
                StartRefresh();
            }

            return new ValueTask<EndpointSet>(set);
        }

        // Expired while its refresh is still out (a lost datagram waits out the DNS timeout): serve the last answer
        // rather than make every request wait on that query; if it fails, the failure path serves it stale anyway.
        if (status.Current is { } last && PendingRefresh is { IsCompleted: false } && now < RefreshTiming.StaleUntil(last, _settings, _context))
        {
            _context.Metrics.CacheLookup(Key.Host, "stale");
            return new ValueTask<EndpointSet>(last);
        }

        _context.Metrics.CacheLookup(Key.Host, "miss");
        return WaitForRefreshAsync(status, now, cancellationToken);
    }

    private async ValueTask<EndpointSet> WaitForRefreshAsync(DiscoveryState seen, long now, CancellationToken cancellationToken)
    {
        if (seen.Current is null && seen.LastError is { } error && now < seen.LastErrorUntil)
        {
            throw DiscoveryRules.Unusable(Key.Host, seen, error, _settings); // a burst of requests must not each wait out DNS timeouts
        }

        // WaitAsync: a caller that gives up does not cancel the shared query for everyone else.
        await StartRefresh(unlessAnswered: true).WaitAsync(cancellationToken).ConfigureAwait(false);
        var status = _status;
        if (status.Current is { } set && _context.Clock.GetTimestamp() < status.UsableUntil)
        {
            return set;
        }

        throw DiscoveryRules.Unusable(Key.Host, status, status.LastError ?? new ServiceDiscoveryException(Key.Host, $"No usable answer for {Key.Host}."), _settings);
    }

    // The single flight. With unlessAnswered, a caller that found no usable answer takes the outcome of a refresh
    // that completed since (the new answer, or the failure during its backoff) instead of asking again.
    private Task StartRefresh(bool unlessAnswered = false)
    {
        if (PendingRefresh is { IsCompleted: false } inFlight)
        {
            return inFlight; // every request in the refresh window comes here; only the first takes the lock
        }

        lock (_gate)
        {
            if (_refresh is { IsCompleted: false } running)
            {
                return running;
            }

            var status = _status;
            var now = _context.Clock.GetTimestamp();
            if (unlessAnswered ? !status.NeedsRefresh(now) : status.Current is not null && now < status.RefreshAt)
            {
                return Task.CompletedTask;
            }

            // Tracked from the first refresh (a service that lost the race to be added is never refreshed), never after it is retired.
            if (!_retired)
            {
                _tracked ??= _source.Track(Key);
            }

            // Off the caller's thread and execution context: one query serves every caller and the sweeper.
            var task = CloudMapContext.RunDetached(RefreshAsync);
            _refresh = task;
            return task;
        }
    }

    private async Task RefreshAsync()
    {
        SourceAnswer? resolution = null;
        Exception? error = null;
        try
        {
            resolution = await _source.ResolveAsync(Key, _context.ShutdownToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the service takes the failure path (stale answer, backoff, a recorded error);
            // otherwise every request would start a new refresh.
            error = ex;
        }

        var now = _context.Clock.GetTimestamp();
        bool changed;
        lock (_gate)
        {
            var status = DiscoveryRules.Next(_status, resolution, error, new(Key.Host, now, LastUsed, _feed.Latest, _merge, _settings, _context));

            // Listeners hear of a new version before requests can see it, so that a balancer is never behind.
            changed = _feed.Offer(status.Current);
            _status = status;
        }

        if (changed)
        {
            _feed.Signal(); // outside the lock: watchers' callbacks are not ours to run under it
        }
    }

    private void Release()
    {
        // The use is recorded before the count drops: a sweep that sees no holder also sees this use.
        Volatile.Write(ref _lastUsed, _context.CoarseNow());
        Interlocked.Decrement(ref _holders);
    }
}
