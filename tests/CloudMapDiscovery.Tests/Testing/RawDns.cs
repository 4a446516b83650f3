using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudMapDiscovery.Tests.Testing;

/// <summary>
/// A deliberately independent, minimal DNS codec for checking the test server byte by byte, so that its
/// tests do not lean on the library's resolver or on the server's own codec.
/// </summary>
internal static class RawDns
{
    public const ushort A = 1;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Opt = 41;

    // One query writer for the whole test project (Infrastructure.RawDns); here without EDNS unless asked.
    public static byte[] Query(ushort id, string name, ushort type, ushort? ednsPayloadSize = null, byte ednsVersion = 0, ushort flags = 0x0100)
        => Infrastructure.RawDns.BuildQuery(id, name, type, ednsPayloadSize, ednsVersion, flags);

    public static RawMessage Parse(byte[] message)
    {
        var reader = new Reader(message);
        var id = reader.UInt16();
        var flags = reader.UInt16();
        var counts = new[] { reader.UInt16(), reader.UInt16(), reader.UInt16(), reader.UInt16() };
        var questions = new List<(string Name, ushort Type)>();
        for (var i = 0; i < counts[0]; i++)
        {
            var name = reader.Name();
            var type = reader.UInt16();
            reader.UInt16();
            questions.Add((name, type));
        }

        var sections = new List<RawRecord>[3];
        for (var s = 0; s < 3; s++)
        {
            sections[s] = [];
            for (var i = 0; i < counts[s + 1]; i++)
            {
                sections[s].Add(reader.Record());
            }
        }

        if (reader.Position != message.Length)
        {
            throw new FormatException($"{message.Length - reader.Position} bytes after the last record.");
        }

        return new RawMessage(id, flags, questions, sections[0], sections[1], sections[2], reader.PointersFollowed);
    }

    public static async Task<byte[]> ReceiveAsync(Socket socket)
    {
        // A guard against a hung test, not a synchronisation wait: every caller expects a datagram.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[65535];
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return buffer[..length];
    }

    public static async Task<byte[]> ExchangeUdpAsync(IPEndPoint server, byte[] query)
    {
        using var socket = ConnectUdp(server);
        await socket.SendAsync(query, SocketFlags.None);
        return await ReceiveAsync(socket);
    }

    public static Socket ConnectUdp(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(server);
        return socket;
    }

    public static async Task<Socket> ConnectTcpAsync(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server);
        return socket;
    }

    public static async Task SendTcpAsync(Socket socket, byte[] message)
    {
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None);
    }

    public static async Task<byte[]> ReceiveTcpAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var prefix = new byte[2];
        await ReadExactlyAsync(socket, prefix, timeout.Token);
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await ReadExactlyAsync(socket, message, timeout.Token);
        return message;
    }

    public static async Task<byte[]> ExchangeTcpAsync(IPEndPoint server, byte[] query)
    {
        using var socket = await ConnectTcpAsync(server);
        await SendTcpAsync(socket, query);
        return await ReceiveTcpAsync(socket);
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            read += n;
        }
    }

    private sealed class Reader(byte[] message)
    {
        public int Position { get; private set; }

        public int PointersFollowed { get; private set; }

        public ushort UInt16()
        {
            Need(Position, 2);
            var value = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(Position));
            Position += 2;
            return value;
        }

        public uint UInt32()
        {
            Need(Position, 4);
            var value = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(Position));
            Position += 4;
            return value;
        }

        public string Name()
        {
            var (name, next) = NameAt(Position);
            Position = next;
            return name;
        }

        public RawRecord Record()
        {
            var name = Name();
            var type = UInt16();
            var @class = UInt16();
            var ttl = UInt32();
            var length = UInt16();
            Need(Position, length);
            var start = Position;
            var record = new RawRecord(name, type, @class, ttl, message.AsSpan(start, length).ToArray());
            switch (type)
            {
                case A or Aaaa:
                    record.Address = new IPAddress(record.Data);
                    break;
                case Cname:
                    record.Target = Name();
                    break;
                case Srv:
                    record.Priority = UInt16();
                    record.Weight = UInt16();
                    record.Port = UInt16();
                    record.Target = Name();
                    break;
                case Soa:
                    record.Target = Name();
                    Name();
                    record.Serial = UInt32();
                    UInt32();
                    UInt32();
                    UInt32();
                    record.Minimum = UInt32();
                    break;
                default:
                    break;
            }

            Position = start + length;
            return record;
        }

        private (string Name, int Next) NameAt(int offset)
        {
            var labels = new List<string>();
            var next = -1;
            var jumps = 0;
            while (true)
            {
                Need(offset, 1);
                var length = message[offset];
                if ((length & 0xC0) == 0xC0)
                {
                    Need(offset, 2);
                    if (++jumps > 20)
                    {
                        throw new FormatException("Compression loop.");
                    }

                    PointersFollowed++;
                    next = next < 0 ? offset + 2 : next;
                    offset = ((length & 0x3F) << 8) | message[offset + 1];
                    continue;
                }

                if (length == 0)
                {
                    return (string.Join('.', labels), next < 0 ? offset + 1 : next);
                }

                Need(offset + 1, length);
                labels.Add(Encoding.ASCII.GetString(message, offset + 1, length));
                offset += 1 + length;
            }
        }

        private void Need(int offset, int count)
        {
            if (offset + count > message.Length)
            {
                throw new FormatException($"Message ends at {message.Length}, needed {offset + count}.");
            }
        }
    }
}

internal sealed record RawMessage(
    ushort Id,
    ushort Flags,
    IReadOnlyList<(string Name, ushort Type)> Questions,
    IReadOnlyList<RawRecord> Answers,
    IReadOnlyList<RawRecord> Authority,
    IReadOnlyList<RawRecord> Additional,
    int PointersFollowed)
{
    public int ResponseCode => Flags & 0xF;

    public bool IsResponse => (Flags & 0x8000) != 0;

    public bool Authoritative => (Flags & 0x0400) != 0;

    public bool Truncated => (Flags & 0x0200) != 0;

    public bool RecursionDesired => (Flags & 0x0100) != 0;

    public RawRecord? Opt => Additional.FirstOrDefault(r => r.Type == RawDns.Opt);
}

internal sealed record RawRecord(string Name, ushort Type, ushort Class, uint Ttl, byte[] Data)
{
    public IPAddress? Address { get; set; }

    public string? Target { get; set; }

    public ushort Priority { get; set; }

    public ushort Weight { get; set; }

    public ushort Port { get; set; }

    public uint Serial { get; set; }

    public uint Minimum { get; set; }
}
