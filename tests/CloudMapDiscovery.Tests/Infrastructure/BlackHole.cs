using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// A listening socket that never accepts, with a backlog of one and its queue full: new connects get no answer to
/// their SYN and time out, as connects to the address of a stopped Fargate task do. No firewall needed: Linux drops
/// SYNs to a listener whose accept queue is full.
/// </summary>
internal sealed class BlackHole : IDisposable
{
    private readonly List<Socket> _sockets = [];

    private BlackHole()
    {
    }

    public static async Task<BlackHole> OpenAsync(IPEndPoint endPoint)
    {
        var hole = new BlackHole();
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
                await filler.ConnectAsync(endPoint, timeout.Token);
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

    public void Dispose()
    {
        foreach (var s in _sockets)
        {
            s.Dispose();
        }

        _sockets.Clear();
    }
}
