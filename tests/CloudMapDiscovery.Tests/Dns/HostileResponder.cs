using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// A name server on loopback (UDP, and TCP on the same port unless turned off) that answers each query with
/// whatever the test's function builds from it, byte for byte: replies no real server sends, that still match
/// the query's ID and question. It reads queries with its own minimal code, not the library's.
/// </summary>
internal sealed class HostileResponder : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Socket? _tcp;
    private readonly Func<Query, byte[]?> _reply;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    private HostileResponder(Socket udp, Socket? tcp, Func<Query, byte[]?> reply)
    {
        _udp = udp;
        _tcp = tcp;
        _reply = reply;
        EndPoint = (IPEndPoint)udp.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Every query received, in order of arrival.</summary>
    public ConcurrentQueue<Query> Queries { get; } = new();

    /// <param name="reply">Builds the reply to a query; <see langword="null"/> sends nothing. Exceptions also send nothing.</param>
    /// <param name="tcp">Whether to listen on TCP too; without it a TCP connect is refused.</param>
    public static HostileResponder Start(Func<Query, byte[]?> reply, bool tcp = true)
    {
        Socket udp;
        Socket? stream = null;
        for (var attempt = 1; ; attempt++)
        {
            udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            if (!tcp)
            {
                break;
            }

            // The ephemeral UDP port may be taken for TCP: then try another, as the Testing server does.
            stream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                stream.Bind(new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)udp.LocalEndPoint!).Port));
                stream.Listen(16);
                break;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < 20)
            {
                udp.Dispose();
                stream.Dispose();
            }
        }

        var responder = new HostileResponder(udp, stream, reply);
        responder._loops.Add(Task.Run(responder.UdpLoopAsync));
        if (stream is not null)
        {
            responder._loops.Add(Task.Run(responder.TcpLoopAsync));
        }

        return responder;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp?.Dispose();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }

    private async Task UdpLoopAsync()
    {
        var buffer = new byte[65_535];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            if (Answer(buffer.AsSpan(0, received.ReceivedBytes), tcp: false) is { } reply)
            {
                try
                {
                    await _udp.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                }
            }
        }
    }

    private async Task TcpLoopAsync()
    {
        var connections = new List<Task>();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _tcp!.AcceptAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                var prefix = new byte[2];
                await client.ReceiveAsync(prefix, SocketFlags.None, _stop.Token);
                var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                for (var read = 0; read < query.Length;)
                {
                    var n = await client.ReceiveAsync(query.AsMemory(read), SocketFlags.None, _stop.Token);
                    read += n > 0 ? n : throw new SocketException((int)SocketError.ConnectionReset);
                }

                if (Answer(query, tcp: true) is { } reply)
                {
                    var framed = new byte[reply.Length + 2];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)Math.Min(reply.Length, ushort.MaxValue));
                    reply.CopyTo(framed, 2);
                    await client.SendAsync(framed, SocketFlags.None, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    private byte[]? Answer(ReadOnlySpan<byte> message, bool tcp)
    {
        if (Query.TryRead(message, tcp, out var query))
        {
            Queries.Enqueue(query);
            try
            {
                return _reply(query);
            }
#pragma warning disable CA1031 // a broken reply function must not stop the server; the test sees a timeout instead
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        return null;
    }

    /// <summary>One query: its ID, its question as sent (name, type and class), and the labels of the name.</summary>
    public sealed record Query(ushort Id, byte[] Question, IReadOnlyList<byte[]> Labels, DnsRecordType Type, bool Tcp)
    {
        /// <summary>The name's labels as ASCII text joined by dots (for tests' own bookkeeping, not DNS text form).</summary>
        public string Name => string.Join('.', Labels.Select(l => System.Text.Encoding.Latin1.GetString(l))).ToLowerInvariant();

        public static bool TryRead(ReadOnlySpan<byte> message, bool tcp, out Query query)
        {
            query = null!;
            if (message.Length < 17 || BinaryPrimitives.ReadUInt16BigEndian(message[4..]) != 1)
            {
                return false;
            }

            var labels = new List<byte[]>();
            var pos = 12;
            while (pos < message.Length && message[pos] != 0)
            {
                var len = message[pos];
                if (len > 63 || pos + 1 + len >= message.Length)
                {
                    return false;
                }

                labels.Add(message.Slice(pos + 1, len).ToArray());
                pos += len + 1;
            }

            if (pos + 5 > message.Length)
            {
                return false;
            }

            var type = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 1)..]);
            query = new Query(BinaryPrimitives.ReadUInt16BigEndian(message), message[12..(pos + 5)].ToArray(), labels, type, tcp);
            return true;
        }

        /// <summary>A reply to this query: its ID, flags (QR, AA, RD, RA and <paramref name="rcode"/>) and its question, exactly as asked.</summary>
        public WireBuilder Reply(int rcode = 0) => new WireBuilder(Id, (ushort)(0x8580 | rcode)).EchoQuestion(Question);
    }
}
