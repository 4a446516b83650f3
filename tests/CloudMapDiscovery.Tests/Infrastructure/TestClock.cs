using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// The standard <see cref="FakeTimeProvider"/>, which also counts the timers that are armed: lifetime tests check that
/// nothing the library starts outlives it (a timer per handler rotation, a probe left behind).
/// </summary>
internal sealed class TestClock : FakeTimeProvider
{
    private readonly HashSet<CountedTimer> _armed = [];

    /// <summary>Timers created from this clock, not disposed, due to fire (a one-shot timer that fired is no longer armed).</summary>
    public int ActiveTimers
    {
        get
        {
            lock (_armed)
            {
                return _armed.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new CountedTimer(this, callback, period);
        timer.Attach(base.CreateTimer(static s => ((CountedTimer)s!).Fire(), timer, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan), state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Track(CountedTimer timer, bool armed)
    {
        lock (_armed)
        {
            if (armed)
            {
                _armed.Add(timer);
            }
            else
            {
                _armed.Remove(timer);
            }
        }
    }

    private sealed class CountedTimer(TestClock clock, TimerCallback callback, TimeSpan period) : ITimer
    {
        private ITimer _inner = null!;
        private object? _state;
        private TimeSpan _period = period;

        public void Attach(ITimer inner, object? state) => (_inner, _state) = (inner, state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            clock.Track(this, dueTime != Timeout.InfiniteTimeSpan);
            return _inner.Change(dueTime, period);
        }

        public void Fire()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                clock.Track(this, armed: false);
            }

            callback(_state);
        }

        public void Dispose()
        {
            clock.Track(this, armed: false);
            _inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
