namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The one timer of a resolution cache (not one per name or handler). It fires at every whole second counted from
/// its start, so idle timeouts and test clocks see a steady grid, and also at any refresh time announced sooner:
/// services serve requests without reading the clock until a sweep marks them due, so it must wake when a refresh
/// time comes, not at its next tick.
/// </summary>
internal sealed class RefreshSweeper : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);

    private readonly CloudMapContext _context;
    private readonly Action _sweep;
    private readonly object _gate = new();
    private ITimer? _timer;
    private long _origin;               // when the timer started: its 1 s ticks count from here
    private long _next = long.MaxValue; // when the timer is armed to fire next (under _gate)
    private bool _disposed;

    public RefreshSweeper(CloudMapContext context, Action sweep)
    {
        _context = context;
        _sweep = sweep;
    }

    /// <summary>Starts the timer if it is not running: with the first name, so an unused cache holds no timer.</summary>
    public void EnsureStarted()
    {
        if (Volatile.Read(ref _timer) is not null)
        {
            return;
        }

        lock (_gate)
        {
            if (_timer is null && !_disposed)
            {
                // One-shot, re-armed by each sweep for the next tick or the next refresh time, whichever is sooner. It
                // is disposed with the cache, which DI disposes with the service provider.
                _origin = _context.Clock.GetTimestamp();
                _next = _origin + _context.ToTicks(Period);
                _timer = _context.CreateDetachedTimer(static s => ((RefreshSweeper)s!).Fire(), this, Period);
            }
        }
    }

    /// <summary>Makes the sweep run no later than <paramref name="deadline"/> (a clock timestamp).</summary>
    public void WakeAt(long deadline)
    {
        lock (_gate)
        {
            if (_timer is not null && !_disposed && deadline < _next)
            {
                ArmLocked(deadline);
            }
        }
    }

    /// <summary>After a sweep: the next whole-second tick, or <paramref name="soonest"/> (a refresh time) if that comes first.</summary>
    public void Rearm(long soonest)
    {
        lock (_gate)
        {
            if (_timer is null || _disposed)
            {
                return;
            }

            // A timer may fire a little early (Timer counts whole milliseconds); a sweep that lands just before a tick
            // counts as that tick's sweep rather than arming a second one a moment later.
            var now = _context.Clock.GetTimestamp();
            var period = _context.ToTicks(Period);
            var tick = _origin + ((Math.Max(0, now + _context.ToTicks(MinDelay) - _origin) / period) + 1) * period;
            ArmLocked(Math.Min(tick, Math.Min(soonest, _next)));
        }
    }

    /// <summary>Forgets the planned wake-up while a sweep runs; a deadline announced meanwhile is kept and honoured by <see cref="Rearm"/>.</summary>
    public void BeginSweep()
    {
        lock (_gate)
        {
            _next = long.MaxValue;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void Fire()
    {
        if (!Volatile.Read(ref _disposed))
        {
            _sweep();
        }
    }

    private void ArmLocked(long at)
    {
        _next = at;
        var delay = _context.Until(at);

        // Under a millisecond, Timer would round the delay down to zero and fire at once, still before the refresh
        // time; a sweep that finds nothing due would then re-arm the same way, over and over.
        _timer!.Change(delay <= TimeSpan.Zero ? TimeSpan.Zero : delay < MinDelay ? MinDelay : delay, Timeout.InfiniteTimeSpan);
    }
}
