namespace CloudMapDiscovery.Api.Source;

/// <summary>A token bucket on API calls, shared by every source of the service provider (one per process in an application).</summary>
/// <remarks>Refills at <c>rate</c> tokens per second up to twice that; a call that finds it empty is not made.</remarks>
internal sealed class ApiCallBudget
{
    private readonly TimeProvider _clock;
    private readonly object _gate = new();
    private double _rate;
    private double _tokens;
    private long _at;

    public ApiCallBudget(TimeProvider clock, double rate)
    {
        _clock = clock;
        _rate = rate;
        _tokens = rate * 2;
        _at = clock.GetTimestamp();
    }

    /// <summary>Lowers the rate to <paramref name="rate"/> if it is below the current one (the strictest client's setting holds).</summary>
    public void Limit(double rate)
    {
        lock (_gate)
        {
            if (rate < _rate)
            {
                _rate = rate;
                _tokens = Math.Min(_tokens, rate * 2);
            }
        }
    }

    public double Rate => _rate;

    /// <summary>Takes a token if one is there.</summary>
    public bool TryTake()
    {
        lock (_gate)
        {
            var now = _clock.GetTimestamp();
            _tokens = Math.Min(_rate * 2, _tokens + (_clock.GetElapsedTime(_at, now).TotalSeconds * _rate));
            _at = now;
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            return true;
        }
    }
}
