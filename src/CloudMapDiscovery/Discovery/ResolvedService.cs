using Microsoft.Extensions.Primitives;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The resolution of one service name, as its readers see it: the endpoint set in use, published as immutable
/// <see cref="ResolvedEndpoints"/> versions with a change token for consumers that watch it, and the wait for an
/// answer when there is none. Its <see cref="ServiceRefresher"/> keeps the answer fresh. It knows nothing of
/// endpoint health, picking or HTTP.
/// </summary>
#pragma warning disable CA1001 // the change sources are never disposed, on purpose: see SignalChange
internal sealed class ResolvedService
#pragma warning restore CA1001
{
    private readonly CloudMapContext _context;
    private readonly TimeSpan _maxStale;
    private readonly long _touchInterval;
    private readonly object _gate = new();

    private volatile ResolutionStatus _status = ResolutionStatus.Initial;
    private volatile bool _due = true;     // requests must read the clock: the refresh time has passed, or there is no answer yet
    private bool _used;                    // a fresh-path request came by since the last sweep; racing writes all store true
    private volatile bool _retired;
    private long _lastUsed;
    private int _holders;
    private CancellationTokenSource _changes = new();

    public ResolvedService(ServiceKey key, CacheSettings settings, DnsServiceSource source, CloudMapContext context, RefreshSweeper sweeper)
    {
        Key = key;
        _context = context;
        _maxStale = settings.MaxStale;

        // On the clock-reading path, the time of last use (for idle eviction) is stored at most this often, so that
        // concurrent requests mostly read its cache line instead of fighting over it.
        _touchInterval = Math.Min(context.ToTicks(TimeSpan.FromSeconds(0.25)), context.ToTicks(settings.IdleTimeout / 16));
        _lastUsed = context.Clock.GetTimestamp();
        Refresher = new ServiceRefresher(this, settings, source, context, sweeper);
    }

    public ServiceKey Key { get; }

    public ServiceRefresher Refresher { get; }

    /// <summary>Set once the cache has dropped this service (idle, or disposed): holders must look the name up again.</summary>
    public bool IsRetired => _retired;

    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Whether a consumer holds the service (see <see cref="Hold"/>): it is then not evicted, however long it goes unasked.</summary>
    public bool IsHeld => Volatile.Read(ref _holders) > 0;

    /// <summary>The refresh in flight, if any (tests await it).</summary>
    public Task? PendingRefresh => Refresher.Pending;

    /// <summary>The endpoint set in use, or <see langword="null"/> when there is no usable answer.</summary>
    public ResolvedEndpoints? Current => _status.Current;

    public ResolutionStatus Status => _status;

    /// <summary>When the next refresh is due (a clock timestamp): the sweeper wakes then, starts it and marks the answer due.</summary>
    public long RefreshAt => _status.RefreshAt;

    /// <summary>
    /// The current set while it is fresh, else <see langword="null"/> (then call <see cref="GetAsync"/>). Every request
    /// comes through here, so it reads two fields and no clock: the sweeper wakes at the refresh time and raises the
    /// due flag, and from then on requests take the exact, clock-reading path until the next answer arrives. A clock
    /// read is the costliest step left (about 23 ns on a Firecracker VM).
    /// </summary>
    public ResolvedEndpoints? TryGetFresh()
    {
        var status = _status;
        var set = status.Current;
        if (set is null || _due)
        {
            return null;
        }

        if (!_used)
        {
            _used = true; // the sweeper turns this into a time of last use, at most once a sweep
        }

        _context.Metrics.CacheLookup(Key.Host, status.IsStale ? "stale" : "hit");
        return set;
    }

    /// <summary>
    /// The current endpoints. Synchronous while there is a usable answer; past the refresh point, also starts the
    /// background refresh if the sweeper has not already; waits (sharing one query with every other caller) only
    /// when there is no usable answer.
    /// </summary>
    public ValueTask<ResolvedEndpoints> GetAsync(CancellationToken cancellationToken)
        => TryGetFresh() is { } set ? new ValueTask<ResolvedEndpoints>(set) : GetCheckingClock(cancellationToken);

    /// <summary>A token that fires when the endpoint set changes (not on a refresh that changed nothing) or the service is retired.</summary>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changes).Token);

    /// <summary>A consumer saw <paramref name="address"/> fail: the MULTIVALUE merge no longer keeps it once DNS leaves it out.</summary>
    public void Distrust(EndpointAddress address) => Refresher.Distrust(address);

    /// <summary>A consumer saw <paramref name="address"/> work again after failing.</summary>
    public void Trust(EndpointAddress address) => Refresher.Trust(address);

    /// <summary>
    /// Keeps the service from idle eviction until the returned object is disposed. For a consumer that follows the
    /// change token instead of asking for every request (a Microsoft.Extensions.ServiceDiscovery watcher, which
    /// calls only when the token fires): without it the name would be evicted while in use, and re-created cold,
    /// with no last good answer to serve if DNS is down at that moment. Idle time counts from the last release.
    /// </summary>
    public IDisposable Hold()
    {
        Interlocked.Increment(ref _holders);
        return new Holder(this);
    }

    public void Retire()
    {
        _retired = true;
        SignalChange();
    }

    /// <summary>How long a good answer may be served while DNS fails: its TTL plus MaxStale. Never for a negative answer (0: already past).</summary>
    public long StaleUntil(ResolvedEndpoints set)
        => set.NegativeReason is not null ? 0 : set.FetchedAt + _context.ToTicks(set.Ttl + _maxStale);

    /// <summary>The refresher's outcome: requests see it at once, and read no clock until its refresh time.</summary>
    public void Publish(ResolutionStatus status, bool endpointsChanged)
    {
        lock (_gate)
        {
            _status = status;
            _due = false;
        }

        if (endpointsChanged)
        {
            SignalChange();
        }
    }

    /// <summary>
    /// The sweeper's visit: turns the requests' used flag into a time of last use, and sends requests to the
    /// clock-reading path once the answer is due for refresh.
    /// </summary>
    public void OnSweep(long now)
    {
        if (_used)
        {
            _used = false;
            Volatile.Write(ref _lastUsed, now);
        }

        if (!_due && now >= _status.RefreshAt)
        {
            // Checked again under the gate: an answer published at the same moment moves the refresh time on and must
            // not be marked due.
            lock (_gate)
            {
                if (now >= _status.RefreshAt)
                {
                    _due = true;
                }
            }
        }
    }

    private ValueTask<ResolvedEndpoints> GetCheckingClock(CancellationToken cancellationToken)
    {
        var now = _context.Clock.GetTimestamp();
        if (now - Volatile.Read(ref _lastUsed) >= _touchInterval)
        {
            Volatile.Write(ref _lastUsed, now);
        }

        var status = _status;
        var set = status.Current;
        if (set is not null && now < status.UsableUntil)
        {
            _context.Metrics.CacheLookup(Key.Host, status.IsStale ? "stale" : "hit");
            if (now >= status.RefreshAt)
            {
                Refresher.Start();
            }

            return new ValueTask<ResolvedEndpoints>(set);
        }

        // Expired while its refresh-ahead query is still out (a lost datagram waits out the DNS timeout): serve the
        // last answer rather than make every request wait on that query. If the query fails, the failure path
        // serves it stale anyway; only a name with no usable answer waits.
        if (set is not null && Refresher.Pending is { IsCompleted: false } && now < StaleUntil(set))
        {
            _context.Metrics.CacheLookup(Key.Host, "stale");
            return new ValueTask<ResolvedEndpoints>(set);
        }

        _context.Metrics.CacheLookup(Key.Host, "miss");
        return WaitForRefreshAsync(status, now, cancellationToken);
    }

    private async ValueTask<ResolvedEndpoints> WaitForRefreshAsync(ResolutionStatus seen, long now, CancellationToken cancellationToken)
    {
        if (seen.Current is null && seen.LastError is { } error && now < seen.LastErrorUntil)
        {
            // A recent failure is reported at once: a burst of requests must not each wait out DNS timeouts.
            throw Wrap(seen, error);
        }

        // WaitAsync: a caller that gives up does not cancel the shared query for everyone else.
        await Refresher.StartUnlessAnswered().WaitAsync(cancellationToken).ConfigureAwait(false);
        var status = _status;
        if (status.Current is { } set && _context.Clock.GetTimestamp() < status.UsableUntil)
        {
            return set;
        }

        throw Wrap(status, status.LastError ?? new Dns.DnsResolutionException($"DNS gave no usable answer for {Key.Host}."));
    }

    private ServiceDiscoveryException Wrap(ResolutionStatus status, Exception error)
    {
        var stale = status.StaleExpired ? $" and the last good answer is older than MaxStale ({_maxStale})" : string.Empty;
        return new ServiceDiscoveryException(Key.Host, $"Cannot discover {Key.Host}: {error.Message.TrimEnd('.')}{stale}.", error);
    }

    private void Release()
    {
        // The use is recorded before the count drops: a sweep that sees no holder also sees this use.
        Volatile.Write(ref _lastUsed, _context.Clock.GetTimestamp());
        Interlocked.Decrement(ref _holders);
    }

    private void SignalChange()
    {
        // The old source is not disposed: a reader may still be taking its Token, which a disposed source would throw
        // from. Without a timer it holds nothing the GC cannot reclaim.
        var old = Interlocked.Exchange(ref _changes, new CancellationTokenSource());
        try
        {
            old.Cancel();
        }
#pragma warning disable CA1031 // Cancel runs every callback before it throws; a listener's failure must not fail the refresh that published
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Diagnostics.Log.ListenerFailed(_context.Logger, ex, Key.Host);
        }
    }

    private sealed class Holder(ResolvedService service) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                service.Release();
            }
        }
    }
}
