using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Testing;

/// <summary>
/// A task address whose connects time out: a listening socket that never accepts, with a backlog of one and its queue
/// full, so that new connects get no answer to their SYN, as connects to the address of a stopped Fargate task do.
/// </summary>
/// <remarks>
/// No firewall needed: Linux drops SYNs to a listener whose accept queue is full (other systems may refuse instead).
/// Dispose it to let the address go.
/// </remarks>
public sealed class BlackHoleListener : IDisposable
{
    private readonly List<Socket> _sockets = [];

    private BlackHoleListener()
    {
    }

    /// <summary>Listens on <paramref name="endPoint"/> and fills its accept queue.</summary>
    /// <param name="endPoint">The address and port to black-hole, for example 127.0.0.5:3000.</param>
    /// <returns>The listener; connects to <paramref name="endPoint"/> time out from now until it is disposed.</returns>
    /// <exception cref="InvalidOperationException">Connects kept completing: this system does not drop SYNs to a full queue.</exception>
    public static async Task<BlackHoleListener> OpenAsync(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var hole = new BlackHoleListener();
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        hole._sockets.Add(listener);
        listener.Bind(endPoint);
        listener.Listen(1);

        // Linux queues backlog + 1 completed connections; fill the queue until a connect no longer completes.
        for (var i = 0; i < 8; i++)
        {
            var filler = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                await filler.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
                hole._sockets.Add(filler);
            }
            catch (OperationCanceledException)
            {
                filler.Dispose();
                return hole;
            }
        }

        hole.Dispose();
        throw new InvalidOperationException($"Could not fill the accept queue of {endPoint}: connects keep completing.");
    }

    /// <summary>Closes the listener and its queued connections.</summary>
    public void Dispose()
    {
        foreach (var s in _sockets)
        {
            s.Dispose();
        }

        _sockets.Clear();
    }
}
