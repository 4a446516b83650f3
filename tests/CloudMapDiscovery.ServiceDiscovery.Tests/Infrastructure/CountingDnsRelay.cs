using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Tests.Infrastructure;

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
            if (FirstQuestion(query) is { } question)
            {
                _counts.AddOrUpdate((question.Name.ToLowerInvariant(), question.Type), 1, (_, n) => n + 1);
            }

            _ = RelayAsync(query, received.RemoteEndPoint);
        }
    }

    private async Task RelayAsync(byte[] query, EndPoint client)
    {
        try
        {
            var reply = await RawDns.UdpExchangeAsync(_upstream, query, TimeSpan.FromSeconds(5));
            await _socket.SendToAsync(reply, SocketFlags.None, client);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The server is gone (its port refuses) or silent: the client sees no reply, as it would from the server.
        }
    }

    // The first question of a query, read by the tests' raw codec; a message it cannot read is relayed uncounted.
    private static (string Name, ushort Type)? FirstQuestion(byte[] query)
    {
        try
        {
            var questions = RawDns.Parse(query).Questions;
            return questions.Count > 0 ? questions[0] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
