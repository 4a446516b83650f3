using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>A task address that accepts TCP connections, counts them and closes them: enough to answer a probe.</summary>
internal sealed class CountingListener : IDisposable
{
    private readonly TcpListener _listener;
    private int _accepted;

    private CountingListener(IPEndPoint endPoint)
    {
        _listener = new TcpListener(endPoint);
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Accepted => Volatile.Read(ref _accepted);

    public static CountingListener Open(IPEndPoint endPoint) => new(endPoint);

    public void Dispose() => _listener.Stop();

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref _accepted);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // stopped
        }
    }
}
