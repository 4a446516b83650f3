namespace CloudMapDiscovery.Balancing;

/// <summary>One endpoint's probe: a timer until it is due, then at most one connect in flight.</summary>
/// <remarks>Owned by its <see cref="EndpointProber"/>.</remarks>
internal sealed class EndpointProbe : IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled when the probe is stopped: the address left DNS, or a request proved it works.</summary>
    public CancellationToken Stopped => _stop.Token;

    public ITimer? Timer { get; set; }

    public bool Running { get; set; }

    public bool IsStopped => _stop.IsCancellationRequested;

    public void Dispose()
    {
        Timer?.Dispose();
        Timer = null;
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
        }

        // Not disposed: a connect still running holds a registration on the token, and a disposed source's Token
        // throws. Without a timer the source holds nothing the GC cannot reclaim.
    }
}
