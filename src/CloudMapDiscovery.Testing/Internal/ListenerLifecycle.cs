using System.Net;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>
/// The test server's sockets over its life: opened, closed and opened again on the same port, once disposed never
/// again.
/// </summary>
/// <remarks>
/// Start, stop, restart and dispose are serialized, so a test that stops the server while another restarts it gets one
/// outcome or the other, never half of each.
/// </remarks>
#pragma warning disable CA1001 // the semaphore is never waited on through its handle, so it holds nothing to dispose; DisposeAsync closes the sockets
internal sealed class ListenerLifecycle(IPAddress address, QueryProcessor processor, TimeProvider clock, ILogger logger)
#pragma warning restore CA1001
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DnsListener? _listener;
    private bool _disposed;

    /// <summary>Where the sockets listen, or listened last.</summary>
    public IPEndPoint EndPoint { get; private set; } = null!;

    public bool IsRunning => Volatile.Read(ref _listener) is not null;

    public void Start(int port) => Open(port);

    public Task StopAsync() => UnderGateAsync(CloseAsync);

    public Task RestartAsync(object owner) => UnderGateAsync(async () =>
    {
        ObjectDisposedException.ThrowIf(_disposed, owner);
        await CloseAsync().ConfigureAwait(false);
        Open(EndPoint.Port);
    });

    public Task DisposeAsync() => UnderGateAsync(async () =>
    {
        if (!_disposed)
        {
            _disposed = true;
            await CloseAsync().ConfigureAwait(false);
        }
    });

    private async Task UnderGateAsync(Func<Task> action)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await action().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Open(int port)
    {
        var listener = DnsListener.Start(address, port, processor, clock, logger);
        EndPoint = listener.EndPoint;
        Volatile.Write(ref _listener, listener);
    }

    private async Task CloseAsync()
    {
        var listener = Interlocked.Exchange(ref _listener, null);
        if (listener is not null)
        {
            await listener.StopAsync().ConfigureAwait(false);
        }
    }
}
