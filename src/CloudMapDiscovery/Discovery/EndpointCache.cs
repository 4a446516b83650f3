using System.Collections.Concurrent;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The endpoints of every service for one set of DNS, cache and ejection settings, shared by every client and
/// handler instance with those settings. One timer per cache (not per name, not per handler) refreshes warm
/// names ahead of expiry and evicts names nobody uses.
/// </summary>
internal sealed class EndpointCache : IDisposable
{
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);

    private readonly ConcurrentDictionary<ServiceKey, ServiceEntry> _entries = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ILogger _logger;
    private readonly object _timerGate = new();
    private ITimer? _sweeper;
    private long _sweepOrigin;               // when the sweeper started: its 1 s ticks count from here
    private long _nextSweep = long.MaxValue; // when the sweeper is armed to fire next (under _timerGate)
    private bool _disposed;

    public EndpointCache(CloudMapDiscoveryOptions options, IDnsResolver resolver, TimeProvider clock, CloudMapMetrics metrics, ILogger logger)
    {
        Options = options;
        Clock = clock;
        Metrics = metrics;
        Source = new DnsServiceSource(resolver);
        Ejection = new EjectionPolicy(options);
        ShutdownToken = _shutdown.Token;
        TouchInterval = Math.Min(ToTicks(TimeSpan.FromSeconds(0.25)), ToTicks(options.IdleTimeout / 16));
        _logger = logger;
    }

    public CloudMapDiscoveryOptions Options { get; }

    public TimeProvider Clock { get; }

    public CloudMapMetrics Metrics { get; }

    public DnsServiceSource Source { get; }

    public EjectionPolicy Ejection { get; }

    /// <summary>Cancels refreshes in flight when the cache is disposed. Taken once: the source's Token throws after disposal.</summary>
    public CancellationToken ShutdownToken { get; }

    public ILogger Logger => _logger;

    /// <summary>A duration in the clock's timestamp units, for deadlines compared with <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * Clock.TimestampFrequency);

    public int Count => _entries.Count;

    /// <summary>On the clock-reading path, how stale an entry's time of last use may get (a quarter second, or a sixteenth of IdleTimeout if less).</summary>
    public long TouchInterval { get; }

    public ServiceEntry GetEntry(string host, DiscoveryRecordTypes recordTypes)
    {
        var key = new ServiceKey(host, recordTypes);
        if (_entries.TryGetValue(key, out var entry))
        {
            return entry;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        EnsureSweeper();
        return _entries.GetOrAdd(key, static (k, cache) => new ServiceEntry(k, cache), this);
    }

    public bool TryGetEntry(string host, DiscoveryRecordTypes recordTypes, out ServiceEntry? entry)
        => _entries.TryGetValue(new ServiceKey(host, recordTypes), out entry);

    /// <summary>Counts a failed request on an endpoint and ejects it when the policy says so.</summary>
    public void ReportFailure(ServiceEntry entry, ServiceEndpoint endpoint, bool connectFailure)
    {
        var duration = endpoint.ReportFailure(connectFailure, Clock.GetTimestamp(), Clock, Ejection);
        if (duration is { } d)
        {
            Metrics.Ejection(entry.Key.Host);
            Log.Ejected(_logger, endpoint.ToString(), entry.Key.Host, d, endpoint.ConsecutiveFailures);
        }
    }

    public static void ReportSuccess(ServiceEndpoint endpoint) => endpoint.ReportSuccess();

    public IEnumerable<ServiceEntry> Entries => _entries.Values;

    public void OnResolved(ServiceEntry entry, EndpointSet set, ServiceResolution resolution)
    {
        if (set.NegativeReason is not null)
        {
            Log.NoInstances(_logger, entry.Key.Host, set.NegativeReason, set.Ttl);
        }
        else if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Resolved(_logger, entry.Key.Host, set.Endpoints.Length, string.Join(", ", set.Endpoints.Select(e => e.ToString())), set.Ttl, resolution.Source);
        }
    }

    public void OnRefreshFailed(ServiceEntry entry, Exception error, bool servingStale, TimeSpan backoff)
    {
        if (servingStale)
        {
            Log.ServingStale(_logger, entry.Key.Host, backoff, error.Message);
        }
        else
        {
            Log.ResolveFailed(_logger, entry.Key.Host, backoff, error.Message);
        }
    }

    /// <summary>One sweep: refresh warm entries that are due, drop idle ones. The timer calls it; tests may too.</summary>
    internal void Sweep()
    {
        if (_disposed)
        {
            return;
        }

        lock (_timerGate)
        {
            // A deadline announced while this sweep runs is kept here, and the re-arm below honours it.
            _nextSweep = long.MaxValue;
        }

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
            Log.SweepFailed(_logger, ex);
        }

        try
        {
            Rearm(soonest);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SweepFailed(_logger, ex);
        }
    }

    // Finds the soonest refresh time still ahead, so that the sweeper wakes for it.
    private void SweepCore(ref long soonest)
    {
        var now = Clock.GetTimestamp();
        var idle = ToTicks(Options.IdleTimeout);
        foreach (var (key, entry) in _entries)
        {
            entry.OnSweep(now); // first: it records a recent use that the idle check must see
            if (now - entry.LastUsed >= idle)
            {
                if (_entries.TryRemove(new KeyValuePair<ServiceKey, ServiceEntry>(key, entry)))
                {
                    entry.Retire();
                    Log.Evicted(_logger, key.Host, Options.IdleTimeout);
                }

                continue;
            }

            if (entry.Current is not null && entry.IsRefreshDue(now))
            {
                entry.StartRefresh();
            }

            var at = entry.RefreshAt;
            if (at > now && at < soonest)
            {
                soonest = at;
            }
        }
    }

    /// <summary>
    /// Makes the sweeper run no later than <paramref name="deadline"/> (a clock timestamp). Entries serve requests
    /// without reading the clock until the sweeper marks them due, so it must wake when a refresh time comes, not
    /// at its next whole-second tick.
    /// </summary>
    public void WakeAt(long deadline)
    {
        lock (_timerGate)
        {
            if (_sweeper is not null && !_disposed && deadline < _nextSweep)
            {
                ArmLocked(deadline);
            }
        }
    }

    // After a sweep: the next whole-second tick counted from the timer's start (so idle timeouts and test clocks
    // see a steady grid), or an entry's refresh time if that comes first.
    private void Rearm(long soonest)
    {
        lock (_timerGate)
        {
            if (_sweeper is null || _disposed)
            {
                return;
            }

            // A timer may fire a little early (Timer counts whole milliseconds); a sweep that lands just before a
            // tick counts as that tick's sweep rather than arming a second one a moment later.
            var now = Clock.GetTimestamp();
            var period = ToTicks(SweepPeriod);
            var tick = _sweepOrigin + ((Math.Max(0, now + ToTicks(MinDelay) - _sweepOrigin) / period) + 1) * period;
            ArmLocked(Math.Min(tick, Math.Min(soonest, _nextSweep)));
        }
    }

    private void ArmLocked(long at)
    {
        _nextSweep = at;
        var delay = Clock.GetElapsedTime(Clock.GetTimestamp(), at);

        // Under a millisecond, Timer would round the delay down to zero and fire at once, still before the
        // refresh time; a sweep that finds nothing due would then re-arm the same way, over and over.
        _sweeper!.Change(delay <= TimeSpan.Zero ? TimeSpan.Zero : delay < MinDelay ? MinDelay : delay, Timeout.InfiniteTimeSpan);
    }

    private void EnsureSweeper()
    {
        if (Volatile.Read(ref _sweeper) is not null)
        {
            return;
        }

        lock (_timerGate)
        {
            if (_sweeper is null && !_disposed)
            {
                // The timer holds the cache weakly through the state object only while the cache lives; it is
                // disposed with the cache, which DI disposes with the service provider. One-shot, re-armed by
                // each sweep for the next tick or the next refresh time, whichever is sooner.
                _sweepOrigin = Clock.GetTimestamp();
                _nextSweep = _sweepOrigin + ToTicks(SweepPeriod);
                _sweeper = Clock.CreateTimer(static s => ((EndpointCache)s!).Sweep(), this, SweepPeriod, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        lock (_timerGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _sweeper?.Dispose();
            _sweeper = null;
        }

        _shutdown.Cancel();
        _shutdown.Dispose();
        foreach (var entry in _entries.Values)
        {
            entry.Retire();
        }

        _entries.Clear();
    }
}
