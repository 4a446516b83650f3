using System.Diagnostics.Metrics;
using CloudMapDiscovery.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudMapDiscovery;

/// <summary>
/// What every layer needs from the process and nothing else: the clock, the meter, loggers, and the token that
/// stops background work when the library is disposed. One per service provider, handed down instead of each
/// object reaching through its parent.
/// </summary>
internal sealed class CloudMapContext : IDisposable
{
    private readonly CancellationTokenSource _shutdown = new();

    public CloudMapContext(TimeProvider? clock = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        Clock = clock ?? TimeProvider.System;
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

    /// <summary>The time from now until <paramref name="timestamp"/> (negative when it has passed).</summary>
    public TimeSpan Until(long timestamp) => Clock.GetElapsedTime(Clock.GetTimestamp(), timestamp);

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
