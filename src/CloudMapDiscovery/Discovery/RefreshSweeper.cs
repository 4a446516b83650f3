using CloudMapDiscovery.Shared;
namespace CloudMapDiscovery.Discovery;

/// <summary>The one timer of a resolution cache (not one per name or handler): it runs the cache's sweep.</summary>
/// <remarks>
/// Requests read the clock themselves (coarsely) to see an answer due, so the sweep has only two jobs: evict names
/// nobody uses, and refresh ahead of expiry the names in use or held. It runs a second after the last sweep, or at
/// the soonest refresh time the last sweep found, if that comes first: a watched name (held by a
/// Microsoft.Extensions.ServiceDiscovery watcher) has no requests to start its refresh on time.
/// </remarks>
internal sealed class RefreshSweeper : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    // Under a millisecond, Timer would round the delay down to zero and fire at once, before the refresh time.
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);

    private readonly CloudMapContext _context;
    private readonly Func<long> _sweep;
    private readonly object _gate = new();
    private ITimer? _timer;
    private bool _disposed;

    /// <param name="context">The clock.</param>
    /// <param name="sweep">One sweep; returns the soonest refresh time (a clock timestamp) it left for later.</param>
    public RefreshSweeper(CloudMapContext context, Func<long> sweep)
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
                _timer = _context.CreateDetachedTimer(static s => ((RefreshSweeper)s!).Fire(), this, Period);
            }
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
        var soonest = long.MaxValue;
        try
        {
            if (!Volatile.Read(ref _disposed))
            {
                soonest = _sweep();
            }
        }
        finally
        {
            lock (_gate)
            {
                if (!_disposed && _timer is not null)
                {
                    var until = soonest == long.MaxValue ? Period : _context.Until(soonest);
                    _timer.Change(until > Period ? Period : until < MinDelay ? MinDelay : until, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }
}
