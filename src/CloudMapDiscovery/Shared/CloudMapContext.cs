using System.Diagnostics.Metrics;
using CloudMapDiscovery.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudMapDiscovery.Shared;

/// <summary>
/// What every layer needs from the process and nothing else: the clock, the meter, loggers, and the token that stops
/// background work when the library is disposed.
/// </summary>
/// <remarks>One per service provider, handed down instead of each object reaching through its parent.</remarks>
internal sealed class CloudMapContext : IDisposable
{
    private readonly CancellationTokenSource _shutdown = new();
    private readonly bool _systemClock;

    public CloudMapContext(TimeProvider? clock = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        Clock = clock ?? TimeProvider.System;
        _systemClock = ReferenceEquals(Clock, TimeProvider.System);
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Metrics = new CloudMapMetrics(meterFactory);
        Logger = LoggerFactory.CreateLogger("CloudMapDiscovery");

        // Taken once: a disposed source's Token property throws, and background work may ask for it late.
        ShutdownToken = _shutdown.Token;
    }

    public TimeProvider Clock { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The library's general log category (cache, balancing); the HTTP handler and DNS resolver have their own.</summary>
    public ILogger Logger { get; }

    public CloudMapMetrics Metrics { get; }

    /// <summary>Cancelled when the library is disposed: refreshes and probes in flight stop.</summary>
    public CancellationToken ShutdownToken { get; }

    /// <summary>A duration in the clock's timestamp units, for deadlines compared with <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long ToTicks(TimeSpan duration) => (long)(duration.TotalSeconds * Clock.TimestampFrequency);

    /// <summary>A cheap, coarse reading of <see cref="Clock"/> for checks made on every request.</summary>
    /// <remarks>
    /// On the system clock this is <see cref="Environment.TickCount64"/> (milliseconds; a read of the kernel's last
    /// tick, a few nanoseconds, where a precise timestamp costs about 20 ns on a virtual machine); on any other
    /// clock (a test's manual one) it is that clock's timestamp, so tests drive coarse checks like every other.
    /// Coarse values compare only with other coarse values (<see cref="ToCoarse(long)"/>, <see cref="ToCoarseTicks"/>).
    /// </remarks>
    public long CoarseNow() => _systemClock ? Environment.TickCount64 : Clock.GetTimestamp();

    /// <summary>A duration in the units of <see cref="CoarseNow"/>.</summary>
    public long ToCoarseTicks(TimeSpan duration) => _systemClock ? (long)duration.TotalMilliseconds : ToTicks(duration);

    /// <summary>The coarse reading at which the clock will show <paramref name="timestamp"/> (rounded down: never later).</summary>
    public long ToCoarse(long timestamp)
        => _systemClock ? Environment.TickCount64 + (long)Math.Floor(Until(timestamp).TotalMilliseconds) : timestamp;

    /// <summary>The time from now until <paramref name="timestamp"/> (negative when it has passed).</summary>
    public TimeSpan Until(long timestamp) => Clock.GetElapsedTime(Clock.GetTimestamp(), timestamp);

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool without the caller's execution context: background work shared
    /// by every caller must not carry the trace, baggage or scoped state of whichever request happened to start it.
    /// </summary>
    public static Task RunDetached(Func<Task> work)
    {
        // SuppressFlow throws when the caller already suppressed it (and then there is nothing to suppress).
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(work);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    /// <summary>
    /// A one-shot timer on <see cref="Clock"/> whose callback runs without the caller's execution context: a timer
    /// captures it otherwise, and would keep the first request's trace and scoped state alive for every later run.
    /// </summary>
    public ITimer CreateDetachedTimer(TimerCallback callback, object state, TimeSpan due)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Clock.CreateTimer(callback, state, due, Timeout.InfiniteTimeSpan);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return Clock.CreateTimer(callback, state, due, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        if (!_shutdown.IsCancellationRequested)
        {
            _shutdown.Cancel();
        }

        _shutdown.Dispose();
        Metrics.Dispose();
    }
}
