namespace CloudMapDiscovery.Discovery;

/// <summary>Runs its action once, at the first dispose: a subscription's or a hold's end.</summary>
internal sealed class Releaser(Action release) : IDisposable
{
    private int _released;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            release();
        }
    }
}
