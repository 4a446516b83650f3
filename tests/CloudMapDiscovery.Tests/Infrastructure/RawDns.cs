using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// The tests' one raw DNS codec and exchanger: it writes queries, sends them over UDP or TCP (RFC 7766 two-byte length
/// prefix), reads header fields of any reply (even one that does not parse) and parses whole messages into
/// <see cref="RawMessage"/>. It is independent of the library's codec and of <c>DnsTestServer</c>'s on purpose: the
/// code under test must not be used to check itself. It serves the BIND fixture's readiness probe, the wire captures,
/// the test server's byte-by-byte tests and the provider tests' counting relay.
/// </summary>
/// <remarks>
/// Every wait is bounded (<see cref="DefaultTimeout"/> unless a caller says otherwise) and ends with the test run
/// (<c>TestContext.Current.CancellationToken</c>): a missing reply fails a test instead of hanging it. Replies are
/// returned as they arrive, whatever their ID, so a test can check what a server really sent first.
/// </remarks>
internal static class RawDns
{
    public const ushort A = 1;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Opt = 41;

    /// <summary>Size of the fixed DNS header.</summary>
    public const int HeaderLength = 12;

    /// <summary>How long a receive waits unless its caller says otherwise: a guard against a hung test, not a synchronisation wait.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    // Header flag bits (RFC 1035 section 4.1.1).
    internal const ushort QrFlag = 0x8000;
    internal const ushort AaFlag = 0x0400;
    internal const ushort TcFlag = 0x0200;
    internal const ushort RdFlag = 0x0100;

    /// <summary>Builds a query with one question, class IN.</summary>
    /// <param name="id">The message ID.</param>
    /// <param name="name">The name, with or without the trailing dot.</param>
    /// <param name="type">The record type code (<see cref="A"/>, <see cref="Aaaa"/>, <see cref="Srv"/>, ...).</param>
    /// <param name="ednsPayloadSize">When set, an EDNS(0) OPT record advertising this UDP payload size is appended; none by default.</param>
    /// <param name="ednsVersion">The EDNS version in the OPT record (servers answer BADVERS to anything but 0).</param>
    /// <param name="flags">The header flags word: RD by default, as a stub resolver sends; other opcodes for negative tests.</param>
    /// <returns>The query message.</returns>
    public static byte[] Query(ushort id, string name, ushort type, int? ednsPayloadSize = null, byte ednsVersion = 0, ushort flags = RdFlag)
    {
        ArgumentNullException.ThrowIfNull(name);
        var m = new List<byte>(64);
        AppendUInt16(m, id);
        AppendUInt16(m, flags);
        AppendUInt16(m, 1); // QDCOUNT
        AppendUInt16(m, 0); // ANCOUNT
        AppendUInt16(m, 0); // NSCOUNT
        AppendUInt16(m, ednsPayloadSize is null ? (ushort)0 : (ushort)1); // ARCOUNT
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63)
            {
                throw new ArgumentException($"Bad label '{label}'.", nameof(name));
            }

            m.Add((byte)bytes.Length);
            m.AddRange(bytes);
        }

        m.Add(0);
        AppendUInt16(m, type);
        AppendUInt16(m, 1); // IN
        if (ednsPayloadSize is { } size)
        {
            m.Add(0); // root owner
            AppendUInt16(m, Opt);
            AppendUInt16(m, checked((ushort)size)); // "class" = UDP payload size
            m.Add(0); // extended RCODE
            m.Add(ednsVersion);
            AppendUInt16(m, 0); // flags (DO clear)
            AppendUInt16(m, 0); // RDLENGTH
        }

        return [.. m];
    }

    /// <summary>Sends a query over UDP and returns the first datagram that comes back (whatever its ID).</summary>
    /// <exception cref="TimeoutException">Nothing came back within <paramref name="timeout"/>.</exception>
    /// <exception cref="SocketException">The server's port refused the datagram.</exception>
    public static async Task<byte[]> UdpExchangeAsync(IPEndPoint server, byte[] query, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var socket = ConnectUdp(server);
        await socket.SendAsync(query, SocketFlags.None, TestContext.Current.CancellationToken);
        return await ReceiveAsync(socket, timeout);
    }

    /// <summary>Sends a query over TCP on a new connection and returns the reply without its length prefix.</summary>
    /// <exception cref="TimeoutException">No complete reply within <paramref name="timeout"/> (connecting included).</exception>
    public static async Task<byte[]> TcpExchangeAsync(IPEndPoint server, byte[] query, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        using var socket = await ConnectTcpAsync(server, timeout);
        await SendTcpAsync(socket, query);
        return await ReceiveTcpAsync(socket, timeout);
    }

    /// <summary>A UDP socket connected to <paramref name="server"/>: it receives only what that address sends, and learns of a refused port.</summary>
    public static Socket ConnectUdp(IPEndPoint server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(server);
        return socket;
    }

    /// <summary>Receives one datagram on a connected UDP socket.</summary>
    /// <exception cref="TimeoutException">Nothing came within <paramref name="timeout"/>.</exception>
    public static Task<byte[]> ReceiveAsync(Socket socket, TimeSpan? timeout = null) =>
        WithTimeoutAsync("UDP reply", timeout, async token =>
        {
            var buffer = new byte[65535];
            var length = await socket.ReceiveAsync(buffer, SocketFlags.None, token);
            return buffer[..length];
        });

    /// <summary>Opens a TCP connection to <paramref name="server"/>.</summary>
    public static Task<Socket> ConnectTcpAsync(IPEndPoint server, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        return WithTimeoutAsync("TCP connection", timeout, async token =>
        {
            var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(server, token);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        });
    }

    /// <summary>Sends one message on a TCP connection, with its two-byte length prefix.</summary>
    public static async Task SendTcpAsync(Socket socket, byte[] message)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(message);
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, checked((ushort)message.Length));
        message.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None, TestContext.Current.CancellationToken);
    }

    /// <summary>Receives one length-prefixed message on a TCP connection and returns it without the prefix.</summary>
    /// <exception cref="TimeoutException">No complete message within <paramref name="timeout"/>.</exception>
    /// <exception cref="EndOfStreamException">The server closed the connection first.</exception>
    public static Task<byte[]> ReceiveTcpAsync(Socket socket, TimeSpan? timeout = null) =>
        WithTimeoutAsync("TCP reply", timeout, async token =>
        {
            var prefix = new byte[2];
            await ReadExactlyAsync(socket, prefix, token);
            var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            await ReadExactlyAsync(socket, message, token);
            return message;
        });

    /// <summary>Gets the message ID of a message.</summary>
    public static ushort Id(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16BigEndian(message);

    /// <summary>Gets the RCODE (low four bits of the header flags) of a reply.</summary>
    public static int ResponseCode(ReadOnlySpan<byte> message) => Flags(message) & 0x0F;

    /// <summary>Gets whether the TC (truncated) flag is set.</summary>
    public static bool IsTruncated(ReadOnlySpan<byte> message) => (Flags(message) & TcFlag) != 0;

    /// <summary>Gets whether the AA (authoritative answer) flag is set.</summary>
    public static bool IsAuthoritative(ReadOnlySpan<byte> message) => (Flags(message) & AaFlag) != 0;

    /// <summary>Gets whether the QR flag is set (the message is a reply).</summary>
    public static bool IsResponse(ReadOnlySpan<byte> message) => (Flags(message) & QrFlag) != 0;

    /// <summary>Gets the four section counts of a message, as its header states them.</summary>
    public static (int Questions, int Answers, int Authority, int Additional) Counts(ReadOnlySpan<byte> message) =>
        (BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
         BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
         BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
         BinaryPrimitives.ReadUInt16BigEndian(message[10..]));

    /// <summary>Parses a whole message: its questions and every record of the three sections.</summary>
    /// <exception cref="FormatException">The message is cut short, loops, or has bytes after its last record.</exception>
    public static RawMessage Parse(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
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

    private static ushort Flags(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16BigEndian(message[2..]);

    private static async Task<T> WithTimeoutAsync<T>(string what, TimeSpan? timeout, Func<CancellationToken, Task<T>> wait)
    {
        var testRun = TestContext.Current.CancellationToken;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(testRun);
        var limit = timeout ?? DefaultTimeout;
        cts.CancelAfter(limit);
        try
        {
            return await wait(cts.Token);
        }
        catch (OperationCanceledException) when (!testRun.IsCancellationRequested)
        {
            throw new TimeoutException($"No {what} within {limit.TotalMilliseconds:0} ms.");
        }
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

    private static void AppendUInt16(List<byte> m, ushort value)
    {
        m.Add((byte)(value >> 8));
        m.Add((byte)value);
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

/// <summary>A message as <see cref="RawDns.Parse"/> read it.</summary>
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

    public bool IsResponse => (Flags & RawDns.QrFlag) != 0;

    public bool Authoritative => (Flags & RawDns.AaFlag) != 0;

    public bool Truncated => (Flags & RawDns.TcFlag) != 0;

    public bool RecursionDesired => (Flags & RawDns.RdFlag) != 0;

    public RawRecord? Opt => Additional.FirstOrDefault(r => r.Type == RawDns.Opt);
}

/// <summary>One record as <see cref="RawDns.Parse"/> read it; the fields of its type's RDATA are filled in.</summary>
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
