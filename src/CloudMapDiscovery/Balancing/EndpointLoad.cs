namespace CloudMapDiscovery.Balancing;

/// <summary>What the load-aware policies and the failure-rate detector know of one endpoint: requests in flight, a peak-sensitive latency estimate and the detector's window counts.</summary>
/// <remarks>
/// Written without locks by the requests that use the endpoint. The latency estimate is a pair of plain fields (the
/// estimate and when it was last moved): two completions at the same moment may each write half of their update,
/// which costs the estimate one sample, never a torn value (64-bit reads and writes are atomic on the targets .NET
/// runs on). The window counts are plain increments too: a detector over hundreds of requests does not need every
/// one of them counted.
/// </remarks>
internal sealed class EndpointLoad
{
    private int _inFlight;
    private double _estimate;   // milliseconds; 0 until the first sample or a seed
    private long _stamp;        // coarse timestamp of the last move of the estimate
    private int _windowRequests;
    private int _windowFailures;

    /// <summary>Requests sent here whose response headers (or failure) have not come back yet.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests that came back since the detector's window began.</summary>
    public int WindowRequests => Volatile.Read(ref _windowRequests);

    /// <summary>Failures (not connect failures) since the detector's window began.</summary>
    public int WindowFailures => Volatile.Read(ref _windowFailures);

    /// <summary>Whether a latency sample or a seed has been taken.</summary>
    public bool HasEstimate => Volatile.Read(ref _estimate) > 0;

    public void Begin() => Interlocked.Increment(ref _inFlight);

    public void End()
    {
        Interlocked.Decrement(ref _inFlight);
        _windowRequests++;
    }

    public void CountFailure() => _windowFailures++;

    public void ResetWindow()
    {
        Volatile.Write(ref _windowRequests, 0);
        Volatile.Write(ref _windowFailures, 0);
    }

    /// <summary>The latency estimate at <paramref name="now"/>: the last one, decayed towards zero by the time since it moved.</summary>
    /// <remarks>
    /// Decay while nothing is observed is what gives an endpoint that was slow a request again now and then: its
    /// estimate shrinks by e every <paramref name="tau"/> until it competes with its peers, and that one request
    /// shows whether it is still slow.
    /// </remarks>
    public double Estimate(long now, double tau)
    {
        var estimate = Volatile.Read(ref _estimate);
        var elapsed = now - Volatile.Read(ref _stamp);
        return elapsed <= 0 ? estimate : estimate * Math.Exp(-elapsed / tau);
    }

    /// <summary>The estimate as of its last move times (requests in flight + 1), and the coarse time of that move.</summary>
    public (double Cost, long Stamp) RawCost() => (Volatile.Read(ref _estimate) * (Volatile.Read(ref _inFlight) + 1), Volatile.Read(ref _stamp));

    /// <summary>Adds a latency sample: a peak replaces the estimate at once, a lower one moves it by the time since the last move.</summary>
    public void Observe(double milliseconds, long now, double tau)
    {
        var estimate = Volatile.Read(ref _estimate);
        var weight = Math.Exp(-Math.Max(0, now - Volatile.Read(ref _stamp)) / tau);
        var next = milliseconds >= estimate ? milliseconds : (estimate * weight) + (milliseconds * (1 - weight));
        Volatile.Write(ref _stamp, now);
        Volatile.Write(ref _estimate, Math.Max(next, double.Epsilon));
    }

    /// <summary>Starts a new address at its peers' estimate, so that it is neither flooded (at zero) nor starved.</summary>
    public void Seed(double milliseconds, long now)
    {
        if (milliseconds > 0)
        {
            Volatile.Write(ref _stamp, now);
            Volatile.Write(ref _estimate, milliseconds);
        }
    }
}
