using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure;

/// <summary>
/// A UDP relay on 127.0.0.1 in front of a real name server (BIND) that counts the questions it passes on, per name
/// and type: the DNS queries the server receives, counted on the wire rather than by the code under test. Replies go
/// back from the relay's own address and port, as the client expects. UDP only: the tests' answers are small.
/// </summary>
internal sealed class CountingDnsRelay : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _upstream;
    private readonly ConcurrentDictionary<(string Name, int Type), int> _counts = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public CountingDnsRelay(IPEndPoint upstream)
    {
        _upstream = upstream;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(ReceiveLoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Queries for <paramref name="name"/> (any case, no trailing dot) of record type <paramref name="type"/> (1 = A).</summary>
    public int Count(string name, int type = 1) => _counts.TryGetValue((name.ToLowerInvariant(), type), out var n) ? n : 0;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue; // an ICMP error for an earlier reply: keep relaying
            }

            var query = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            if (TryReadQuestion(query, out var question))
            {
                _counts.AddOrUpdate(question, 1, (_, n) => n + 1);
            }

            _ = RelayAsync(query, received.RemoteEndPoint);
        }
    }

    private async Task RelayAsync(byte[] query, EndPoint client)
    {
        try
        {
            using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            await upstream.ConnectAsync(_upstream);
            await upstream.SendAsync(query);
            var reply = new byte[4096];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var n = await upstream.ReceiveAsync(reply, SocketFlags.None, timeout.Token);
            await _socket.SendToAsync(reply.AsMemory(0, n), SocketFlags.None, client);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The server is gone (its port refuses) or silent: the client sees no reply, as it would from the server.
        }
    }

    // The first question: its name in lower case without the trailing dot, and its type.
    private static bool TryReadQuestion(byte[] message, out (string Name, int Type) question)
    {
        question = default;
        var name = new StringBuilder();
        var i = 12;
        while (i < message.Length && message[i] != 0)
        {
            var length = message[i];
            if ((length & 0xC0) != 0 || i + 1 + length > message.Length)
            {
                return false;
            }

            name.Append(name.Length > 0 ? "." : string.Empty).Append(Encoding.ASCII.GetString(message, i + 1, length));
            i += 1 + length;
        }

        if (i + 3 > message.Length)
        {
            return false;
        }

        question = (name.ToString().ToLowerInvariant(), (message[i + 1] << 8) | message[i + 2]);
        return true;
    }
}
