namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>What the resilience strategies reported through their callbacks.</summary>
internal sealed class ResilienceEvents
{
    private int _retries;
    private int _opened;

    public int Retries => Volatile.Read(ref _retries);

    public int BreakerOpened => Volatile.Read(ref _opened);

    public void Retry() => Interlocked.Increment(ref _retries);

    public void Opened() => Interlocked.Increment(ref _opened);
}
