using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// Keeps one service's answer fresh: one DNS query at a time (every caller shares it), run in the background, its
/// outcome turned into the next <see cref="ResolutionStatus"/> (TTL floor and cap, refresh-ahead, backoff, the
/// last good answer served stale, "no instances" capped, MULTIVALUE answers merged) and published.
/// </summary>
internal sealed class ServiceRefresher
{
    private readonly ResolvedService _service;
    private readonly CacheSettings _settings;
    private readonly DnsServiceSource _source;
    private readonly CloudMapContext _context;
    private readonly RefreshSweeper _sweeper;
    private readonly object _gate = new();
    private readonly MultiValueMerge _merge = new();
    private Task? _refresh;

    public ServiceRefresher(ResolvedService service, CacheSettings settings, DnsServiceSource source, CloudMapContext context, RefreshSweeper sweeper)
    {
        _service = service;
        _settings = settings;
        _source = source;
        _context = context;
        _sweeper = sweeper;
    }

    /// <summary>The refresh in flight or last run, if any.</summary>
    public Task? Pending => Volatile.Read(ref _refresh);

    /// <summary>Whether the sweeper should refresh now (the answer is due and nobody is refreshing it).</summary>
    public bool IsDue(long now) => now >= _service.RefreshAt && Pending is null or { IsCompleted: true };

    /// <summary>Starts a background refresh unless one is running or the answer is no longer due; returns the one in flight.</summary>
    public Task Start()
    {
        // Every request in the refresh-ahead window comes through here; only the first should take the lock.
        if (Pending is { IsCompleted: false } inFlight)
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
            if (_service.Current is not null && _context.Clock.GetTimestamp() < _service.RefreshAt)
            {
                return Task.CompletedTask;
            }

            // Task.Run: the caller may be a request on its hot path, which must not run DNS I/O inline. Without the
            // caller's execution context: one query serves every caller (and the sweeper), so its span is a trace of its
            // own rather than a child of whichever request happened to start it, and no caller's scope leaks into it.
            var task = CloudMapContext.RunDetached(RefreshAsync);
            _refresh = task;
            return task;
        }
    }

    /// <summary>
    /// For a caller that found no usable answer and may have arrived just after a refresh completed: it takes that
    /// refresh's outcome (the new answer, or the failure during its backoff) instead of asking DNS again.
    /// </summary>
    public Task StartUnlessAnswered()
    {
        lock (_gate)
        {
            if (_refresh is { IsCompleted: false } running)
            {
                return running;
            }

            var now = _context.Clock.GetTimestamp();
            var status = _service.Status;
            if (status.Current is not null ? now < status.UsableUntil : status.LastError is not null && now < status.LastErrorUntil)
            {
                return Task.CompletedTask;
            }

            return Start();
        }
    }

    /// <summary>A consumer saw <paramref name="address"/> fail: the MULTIVALUE merge no longer keeps it once DNS leaves it out.</summary>
    public void Distrust(EndpointAddress address)
    {
        lock (_merge)
        {
            _merge.Distrust(address);
        }
    }

    /// <summary>A consumer saw <paramref name="address"/> work again after failing.</summary>
    public void Trust(EndpointAddress address)
    {
        lock (_merge)
        {
            _merge.Trust(address);
        }
    }

    private async Task RefreshAsync()
    {
        ServiceResolution resolution;
        try
        {
            resolution = await _source.ResolveAsync(_service.Key, _context.ShutdownToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Whatever went wrong (a socket that could not even be created, say), the service must take the failure
            // path: stale answer, backoff, a recorded error. Otherwise every request would start a new refresh.
            var error = ex as DnsResolutionException ?? new DnsResolutionException($"DNS lookup of {_service.Key.Host} failed: {ex.Message}", ex);
            OnFailure(error, _context.Clock.GetTimestamp());
            return;
        }

        OnAnswer(resolution, _context.Clock.GetTimestamp());
    }

    // Only one refresh runs at a time, so the status read here is the latest: nothing else writes it.
    private void OnAnswer(ServiceResolution resolution, long now)
    {
        var previous = _service.Current;
        ResolvedEndpoints set;
        var floored = false;
        lock (_merge)
        {
            if (resolution.IsNegative)
            {
                _merge.Clear();
                set = new ResolvedEndpoints([], RefreshTiming.NegativeTtl(resolution.Ttl, _settings), now, resolution.NegativeReason ?? "no instances");
            }
            else
            {
                var ttl = RefreshTiming.PositiveTtl(resolution.Ttl, _settings, out floored);
                var endpoints = _merge.Apply(resolution.Addresses, previous, now, _settings.MultiValue, _context.ToTicks(_settings.MultiValue.Retention));
                set = new ResolvedEndpoints(endpoints, ttl, now, null);
            }
        }

        var status = ResolutionStatus.Answered(set, now, _context.ToTicks(set.Ttl), floored);
        _service.Publish(status, endpointsChanged: !set.SameEndpointsAs(previous));
        _sweeper.WakeAt(status.RefreshAt);
        var host = _service.Key.Host;
        if (set.NegativeReason is not null)
        {
            Log.NoInstances(_context.Logger, host, set.NegativeReason, set.Ttl);
        }
        else if (_context.Logger.IsEnabled(LogLevel.Debug))
        {
            Log.Resolved(_context.Logger, host, set.Endpoints.Length, string.Join(", ", set.Endpoints.Select(e => e.Address)), set.Ttl, resolution.Source);
        }
    }

    private void OnFailure(Exception error, long now)
    {
        var before = _service.Status;
        var backoff = RefreshTiming.Backoff(before.Failures + 1);
        var staleUntil = before.Current is { } set ? _service.StaleUntil(set) : 0;
        var status = before.Failed(error, now, now + _context.ToTicks(backoff), staleUntil);
        _service.Publish(status, endpointsChanged: false);
        _sweeper.WakeAt(status.RefreshAt);
        if (status.IsStale)
        {
            Log.ServingStale(_context.Logger, _service.Key.Host, backoff, error.Message);
        }
        else
        {
            Log.ResolveFailed(_context.Logger, _service.Key.Host, backoff, error.Message);
        }
    }
}
