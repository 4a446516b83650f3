using System.Globalization;
using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The cache entry of one service: the current endpoint snapshot, when to refresh it, the one refresh in
/// flight, and the health of every endpoint seen. Readers take the snapshot without locks; refreshes are
/// single-flight and run in the background once the name is warm.
/// </summary>
internal sealed class ServiceEntry
{
    private static readonly TimeSpan MaxRetryBackoff = TimeSpan.FromSeconds(30);

    private readonly EndpointCache _cache;
    private readonly object _gate = new();
    private readonly Dictionary<(IPAddress, int?), ServiceEndpoint> _known = [];

    private volatile EndpointSet? _current;
    private long _refreshAt;        // a request or the sweeper starts a background refresh from here on
    private long _usableUntil;      // past this, requests wait for a refresh (the answer expired, or MaxStale ran out)
    private long _lastUsed;
    private uint _counter = (uint)Random.Shared.Next();
    private Task? _refresh;
    private int _failures;          // consecutive failed refreshes, for backoff
    private Exception? _lastError;
    private long _lastErrorUntil;   // a cold failure is handed to new requests until then, without a new query
    private long _lastRefresh;
    private bool _stale;
    private bool _staleExpired;     // the last failure dropped a good answer because MaxStale ran out
    private HostHeader? _hostHeader;
    private volatile bool _retired;
    private volatile bool _due = true; // requests must read the clock: _refreshAt has passed (or there is no answer yet)
    private bool _used;                // a fresh-path request came by since the last sweep; racing writes all store true, a lost one is re-set by the next request

    public ServiceEntry(ServiceKey key, EndpointCache cache)
    {
        Key = key;
        _cache = cache;
        _lastUsed = cache.Clock.GetTimestamp();
    }

    public ServiceKey Key { get; }

    /// <summary>Set once the cache has dropped this entry (idle, or the cache was disposed): holders must look the name up again.</summary>
    public bool IsRetired => _retired;

    public void Retire() => _retired = true;

    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>The refresh in flight, if any (tests await it).</summary>
    public Task? PendingRefresh => Volatile.Read(ref _refresh);

    public EndpointSet? Current => _current;

    /// <summary>
    /// The current endpoints. Synchronous while there is a usable answer; past the refresh point, also starts the
    /// background refresh if the sweeper has not already; waits (sharing one query with every other caller) only
    /// when there is no usable answer.
    /// </summary>
    public ValueTask<EndpointSet> GetAsync(CancellationToken cancellationToken)
    {
        // Every request comes through here, so the fresh case reads two fields and no clock: the cache's sweeper
        // wakes at _refreshAt and raises _due, and from then on requests take the exact, clock-reading path until
        // the next answer arrives. A clock read is the costliest step left (about 23 ns on a Firecracker VM).
        var set = _current;
        if (set is not null && !_due)
        {
            if (!_used)
            {
                _used = true; // the sweeper turns this into a time of last use, at most once a sweep
            }

            _cache.Metrics.CacheLookup(Key.Host, _stale ? "stale" : "hit");
            return new ValueTask<EndpointSet>(set);
        }

        return GetCheckingClock(cancellationToken);
    }

    private ValueTask<EndpointSet> GetCheckingClock(CancellationToken cancellationToken)
    {
        var now = _cache.Clock.GetTimestamp();

        // Idle eviction needs minutes of precision, not nanoseconds: store the time of use at most once per
        // interval, so that concurrent requests mostly read this cache line instead of fighting over it.
        if (now - Volatile.Read(ref _lastUsed) >= _cache.TouchInterval)
        {
            Volatile.Write(ref _lastUsed, now);
        }

        var set = _current;
        if (set is not null)
        {
            if (now < Volatile.Read(ref _refreshAt))
            {
                _cache.Metrics.CacheLookup(Key.Host, _stale ? "stale" : "hit");
                return new ValueTask<EndpointSet>(set);
            }

            if (now < Volatile.Read(ref _usableUntil))
            {
                _cache.Metrics.CacheLookup(Key.Host, _stale ? "stale" : "hit");
                StartRefresh();
                return new ValueTask<EndpointSet>(set);
            }
        }

        // Expired while its refresh-ahead query is still out (a lost datagram waits out the DNS timeout): serve the
        // last answer rather than make every request wait on that query. If the query fails, the failure path
        // serves it stale anyway; only a name with no usable answer waits.
        if (set is not null && Volatile.Read(ref _refresh) is { IsCompleted: false } && now < StaleUntil(set))
        {
            _cache.Metrics.CacheLookup(Key.Host, "stale");
            return new ValueTask<EndpointSet>(set);
        }

        _cache.Metrics.CacheLookup(Key.Host, "miss");
        return WaitForRefreshAsync(now, cancellationToken);
    }

    /// <summary>The Host header for a request to this service: the URI's authority (<paramref name="host"/> is its IdnHost, already read by the caller), cached for the last host and port seen.</summary>
    public string HostHeaderFor(Uri uri, string host)
    {
        var port = uri.IsDefaultPort ? -1 : uri.Port;
        var cached = Volatile.Read(ref _hostHeader);
        if (cached is not null && cached.Port == port && string.Equals(cached.Host, host, StringComparison.Ordinal))
        {
            return cached.Value;
        }

        cached = new HostHeader(host, port, port < 0 ? host : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}"));
        Volatile.Write(ref _hostHeader, cached);
        return cached.Value;
    }

    public ServiceEndpoint? Pick(EndpointSet set, IReadOnlyCollection<ServiceEndpoint>? exclude)
        => RoundRobinPicker.Pick(set.Endpoints, ref _counter, exclude, this);

    /// <summary>The clock, for the picker's slow path.</summary>
    public TimeProvider Clock => _cache.Clock;

    /// <summary>Called by the picker when it re-admits an endpoint whose ejection has run out.</summary>
    public void OnReadmitted(ServiceEndpoint endpoint) => Log.Readmitted(_cache.Logger, endpoint.ToString(), Key.Host);

    // How long a good answer may be served while DNS fails: its TTL plus MaxStale. A negative answer is never
    // served stale (0: already past).
    private long StaleUntil(EndpointSet set)
        => set.NegativeReason is not null ? 0 : set.FetchedAt + _cache.ToTicks(set.Ttl + _cache.Options.MaxStale);

    /// <summary>Starts a background refresh unless one is running or the answer is no longer due; returns the one in flight.</summary>
    public Task StartRefresh()
    {
        // Every request in the refresh-ahead window comes through here; only the first should take the lock.
        if (Volatile.Read(ref _refresh) is { IsCompleted: false } inFlight)
        {
            return inFlight;
        }

        lock (_gate)
        {
            if (_refresh is { IsCompleted: false } running)
            {
                return running;
            }

            // The caller saw the answer due, but another caller's refresh may have completed since.
            if (_current is not null && _cache.Clock.GetTimestamp() < _refreshAt)
            {
                return Task.CompletedTask;
            }

            // Task.Run: the caller is a request on its hot path, which must not run DNS I/O inline.
            var task = Task.Run(RefreshAsync);
            _refresh = task;
            return task;
        }
    }

    /// <summary>When the next refresh is due (a clock timestamp): the sweeper wakes then, starts it and marks the answer due.</summary>
    public long RefreshAt => Volatile.Read(ref _refreshAt);

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

        if (!_due && now >= Volatile.Read(ref _refreshAt))
        {
            // Checked again under the gate: an answer arriving at the same moment moves _refreshAt on and must not
            // be marked due.
            lock (_gate)
            {
                if (now >= _refreshAt)
                {
                    _due = true;
                }
            }
        }
    }

    /// <summary>Whether the sweeper should refresh this entry now (it is due and nobody is refreshing it).</summary>
    public bool IsRefreshDue(long now) => now >= Volatile.Read(ref _refreshAt) && Volatile.Read(ref _refresh) is null or { IsCompleted: true };

    private async ValueTask<EndpointSet> WaitForRefreshAsync(long now, CancellationToken cancellationToken)
    {
        if (_current is null && _lastError is { } error && now < Volatile.Read(ref _lastErrorUntil))
        {
            // A recent failure is reported at once: a burst of requests must not each wait out DNS timeouts.
            throw Wrap(error);
        }

        // WaitAsync: a caller that gives up does not cancel the shared query for everyone else.
        await RefreshUnlessAnswered().WaitAsync(cancellationToken).ConfigureAwait(false);
        var set = _current;
        if (set is not null && _cache.Clock.GetTimestamp() < Volatile.Read(ref _usableUntil))
        {
            return set;
        }

        throw Wrap(_lastError ?? new DnsResolutionException($"DNS gave no usable answer for {Key.Host}."));
    }

    // A caller that found no usable answer may get here just after a refresh completed: it takes that refresh's
    // outcome (the new answer, or the failure during its backoff) instead of asking DNS again.
    private Task RefreshUnlessAnswered()
    {
        lock (_gate)
        {
            if (_refresh is { IsCompleted: false } running)
            {
                return running;
            }

            var now = _cache.Clock.GetTimestamp();
            if (_current is not null ? now < _usableUntil : _lastError is not null && now < _lastErrorUntil)
            {
                return Task.CompletedTask;
            }

            return StartRefresh();
        }
    }

    private ServiceDiscoveryException Wrap(Exception error)
    {
        var stale = _staleExpired ? $" and the last good answer is older than MaxStale ({_cache.Options.MaxStale})" : string.Empty;
        return new ServiceDiscoveryException(Key.Host, $"Cannot discover {Key.Host}: {error.Message.TrimEnd('.')}{stale}.", error);
    }

    private async Task RefreshAsync()
    {
        var clock = _cache.Clock;
        ServiceResolution resolution;
        try
        {
            resolution = await _cache.Source.ResolveAsync(Key, _cache.ShutdownToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Whatever went wrong (a socket that could not even be created, say), the entry must take the failure
            // path: stale answer, backoff, a recorded error. Otherwise every request would start a new refresh.
            var error = ex as DnsResolutionException ?? new DnsResolutionException($"DNS lookup of {Key.Host} failed: {ex.Message}", ex);
            OnFailure(error, clock.GetTimestamp());
            return;
        }

        OnSuccess(resolution, clock.GetTimestamp());
    }

    private void OnSuccess(ServiceResolution resolution, long now)
    {
        var options = _cache.Options;
        TimeSpan ttl;
        EndpointSet set;
        var floored = false;
        lock (_gate)
        {
            if (resolution.IsNegative)
            {
                // Honour "no instances", but briefly: Cloud Map's 900 s negative TTL would hide a scale-from-zero.
                var negative = resolution.Ttl ?? options.NegativeTtlCap;
                var floor = options.MinTtl < options.NegativeTtlCap ? options.MinTtl : options.NegativeTtlCap;
                ttl = negative < floor ? floor : negative > options.NegativeTtlCap ? options.NegativeTtlCap : negative;
                set = new EndpointSet([], ttl, now, resolution.NegativeReason ?? "no instances");
                ForgetHealthyLeavers(now, []);
            }
            else
            {
                var raw = resolution.Ttl ?? options.MinTtl;
                floored = raw < options.MinTtl;
                ttl = floored ? options.MinTtl : raw > options.MaxTtl ? options.MaxTtl : raw;
                set = new EndpointSet(Merge(resolution, now), ttl, now, null);
            }

            var ttlTicks = _cache.ToTicks(ttl);

            if (floored)
            {
                // The record asked for less than MinTtl (Cloud Map's sample uses 0): MinTtl is then our own query
                // interval, so refresh at MinTtl plus up to 10 % jitter (never more than one query per MinTtl), and
                // keep using the answer for half a MinTtl more so that no request waits on that refresh.
                _refreshAt = now + (long)(ttlTicks * (1.0 + (Random.Shared.NextDouble() * 0.1)));
                _usableUntil = now + (long)(ttlTicks * 1.5);
            }
            else
            {
                // Refresh between 75 % and 90 % of the TTL: ahead of expiry, and spread so that many clients that
                // fetched together do not all ask again in the same instant (envoy#35641).
                _refreshAt = now + (long)(ttlTicks * (0.75 + (Random.Shared.NextDouble() * 0.15)));
                _usableUntil = now + ttlTicks;
            }

            _lastRefresh = now;
            _failures = 0;
            _lastError = null;
            _stale = false;
            _staleExpired = false;
            _current = set;
            _due = false;
        }

        _cache.WakeAt(Volatile.Read(ref _refreshAt));
        _cache.OnResolved(this, set, resolution);
    }

    private void OnFailure(Exception error, long now)
    {
        bool servingStale;
        TimeSpan backoff;
        lock (_gate)
        {
            _failures++;
            _lastError = error;

            // 1 s, 2 s, 4 s ... up to 30 s, each with jitter, so a failing resolver is not hammered.
            var seconds = Math.Min(MaxRetryBackoff.TotalSeconds, Math.Pow(2, Math.Min(_failures - 1, 10)));
            backoff = TimeSpan.FromSeconds(seconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
            var retryAt = now + _cache.ToTicks(backoff);
            var set = _current;
            var staleUntil = set is null ? 0 : StaleUntil(set);
            servingStale = now < staleUntil;
            _staleExpired = staleUntil != 0 && !servingStale;
            if (servingStale)
            {
                _stale = true;
                _usableUntil = staleUntil;
                _refreshAt = Math.Min(retryAt, staleUntil);
            }
            else
            {
                _current = null;
                _stale = false;
                _usableUntil = 0;
                _refreshAt = retryAt;
            }

            _lastErrorUntil = retryAt;
            _due = false;
        }

        _cache.WakeAt(Volatile.Read(ref _refreshAt));
        _cache.OnRefreshFailed(this, error, servingStale, backoff);
    }

    // Keeps each endpoint's health across refreshes; with a MULTIVALUE-sized answer, also keeps recently seen
    // addresses that this answer happened to leave out.
    private ServiceEndpoint[] Merge(ServiceResolution resolution, long now)
    {
        var options = _cache.Options;
        var result = new List<ServiceEndpoint>(resolution.Addresses.Count);
        var inAnswer = new HashSet<ServiceEndpoint>();
        foreach (var a in resolution.Addresses)
        {
            if (!_known.TryGetValue((a.Address, a.Port), out var e))
            {
                e = new ServiceEndpoint(a.Address, a.Port);
                _known[(a.Address, a.Port)] = e;
            }

            e.LastSeen = now;
            e.IsMerged = false;
            if (inAnswer.Add(e))
            {
                result.Add(e);
            }
        }

        if (options.MergeMultiValueAnswers && resolution.Addresses.Count == options.MultiValueAnswerLimit && _current is { } previous)
        {
            var retention = _cache.ToTicks(options.MultiValueRetention);
            foreach (var e in previous.Endpoints)
            {
                // A merged address is trusted only while it has not failed: DNS no longer vouches for it.
                if (!inAnswer.Contains(e) && now - e.LastSeen < retention && e.ConsecutiveFailures == 0)
                {
                    e.IsMerged = true;
                    result.Add(e);
                    inAnswer.Add(e);
                }
            }
        }

        ForgetHealthyLeavers(now, inAnswer);
        return [.. result];
    }

    // An address that left DNS keeps its state only while it is ejected, so that a dead task DNS lists again
    // (deregistration lags) is still avoided; a healthy leaver is forgotten.
    private void ForgetHealthyLeavers(long now, HashSet<ServiceEndpoint> keep)
    {
        List<(IPAddress, int?)>? drop = null;
        foreach (var (k, e) in _known)
        {
            if (!keep.Contains(e) && (e.EjectedUntil == 0 || e.EjectedUntil <= now))
            {
                (drop ??= []).Add(k);
            }
        }

        if (drop is not null)
        {
            foreach (var k in drop)
            {
                _known.Remove(k);
            }
        }
    }

    public ServiceSnapshot Snapshot()
    {
        var clock = _cache.Clock;
        var now = clock.GetTimestamp();
        var utcNow = clock.GetUtcNow();
        var set = _current;
        lock (_gate)
        {
            DateTimeOffset? At(long ts) => ts == 0 ? null : utcNow + clock.GetElapsedTime(now, ts);
            var endpoints = (set?.Endpoints ?? []).Select(e =>
            {
                var until = e.EjectedUntil;
                var ejected = until != 0 && now < until;
                return new EndpointSnapshot(
                    e.Address.ToString(),
                    e.Port,
                    ejected ? EndpointState.Ejected : EndpointState.Healthy,
                    e.ConsecutiveFailures,
                    ejected ? At(until) : null,
                    e.Picks,
                    e.IsMerged);
            }).ToArray();
            return new ServiceSnapshot(
                Key.Host,
                Key.RecordTypes,
                endpoints,
                set?.Ttl,
                At(_lastRefresh),
                _usableUntil == 0 ? null : At(_usableUntil),
                _stale,
                set?.NegativeReason,
                _lastError?.Message);
        }
    }

    private sealed record HostHeader(string Host, int Port, string Value);
}
