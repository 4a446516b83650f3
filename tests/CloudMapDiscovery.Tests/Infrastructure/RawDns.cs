using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// A deliberately tiny DNS query builder and exchanger for test infrastructure (readiness probes, wire
/// captures). It is independent of the library's codec on purpose: the code under test must not be
/// used to check itself.
/// </summary>
public static class RawDns
{
    /// <summary>Size of the fixed DNS header.</summary>
    public const int HeaderLength = 12;

    /// <summary>Builds a standard query with one question, class IN.</summary>
    /// <param name="id">The message ID.</param>
    /// <param name="name">The name, with or without the trailing dot.</param>
    /// <param name="type">The record type code (1 = A, 28 = AAAA, 33 = SRV, 6 = SOA).</param>
    /// <param name="ednsPayloadSize">When set, an EDNS(0) OPT record advertising this UDP payload size is appended.</param>
    /// <param name="ednsVersion">The EDNS version in the OPT record (servers answer BADVERS to anything but 0).</param>
    /// <param name="flags">The header flags word: RD (0x0100) by default, as a stub resolver sends; other opcodes for negative tests.</param>
    /// <returns>The query message.</returns>
    public static byte[] BuildQuery(ushort id, string name, ushort type, int? ednsPayloadSize = 1232, byte ednsVersion = 0, ushort flags = 0x0100)
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
            AppendUInt16(m, 41); // OPT
            AppendUInt16(m, checked((ushort)size)); // "class" = UDP payload size
            m.Add(0); // extended RCODE
            m.Add(ednsVersion);
            AppendUInt16(m, 0); // flags (DO clear)
            AppendUInt16(m, 0); // RDLENGTH
        }

        return [.. m];
    }

    /// <summary>Sends a query over UDP and returns the first reply from <paramref name="server"/> with the query's ID.</summary>
    /// <param name="server">The server.</param>
    /// <param name="query">The query message.</param>
    /// <param name="timeout">How long to wait for the reply.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The reply.</returns>
    /// <exception cref="TimeoutException">No reply arrived in time.</exception>
    public static async Task<byte[]> UdpExchangeAsync(IPEndPoint server, byte[] query, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(query);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var buffer = new byte[65535];
        try
        {
            await socket.SendAsync(query, SocketFlags.None, cts.Token).ConfigureAwait(false);
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n >= HeaderLength && buffer[0] == query[0] && buffer[1] == query[1])
                {
                    return buffer[..n];
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No UDP reply from {server} within {timeout.TotalMilliseconds:0} ms.");
        }
    }

    /// <summary>Sends a query over TCP (RFC 7766 two-byte length prefix) and returns the reply without its prefix.</summary>
    /// <param name="server">The server.</param>
    /// <param name="query">The query message.</param>
    /// <param name="timeout">How long to wait for the whole exchange.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The reply message.</returns>
    /// <exception cref="TimeoutException">No complete reply arrived in time.</exception>
    public static async Task<byte[]> TcpExchangeAsync(IPEndPoint server, byte[] query, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(query);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var client = new TcpClient(server.AddressFamily);
            await client.ConnectAsync(server, cts.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            var framed = new byte[query.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(framed, checked((ushort)query.Length));
            query.CopyTo(framed, 2);
            await stream.WriteAsync(framed, cts.Token).ConfigureAwait(false);
            var lengthBytes = new byte[2];
            await stream.ReadExactlyAsync(lengthBytes, cts.Token).ConfigureAwait(false);
            var reply = new byte[BinaryPrimitives.ReadUInt16BigEndian(lengthBytes)];
            await stream.ReadExactlyAsync(reply, cts.Token).ConfigureAwait(false);
            return reply;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No TCP reply from {server} within {timeout.TotalMilliseconds:0} ms.");
        }
    }

    /// <summary>Gets the message ID of a message.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The ID.</returns>
    public static ushort Id(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16BigEndian(message);

    /// <summary>Gets the RCODE (low four bits of the header flags) of a reply.</summary>
    /// <param name="message">The reply.</param>
    /// <returns>The response code.</returns>
    public static int ResponseCode(ReadOnlySpan<byte> message) => message[3] & 0x0F;

    /// <summary>Gets whether the TC (truncated) flag is set.</summary>
    /// <param name="message">The reply.</param>
    /// <returns><see langword="true"/> when truncated.</returns>
    public static bool IsTruncated(ReadOnlySpan<byte> message) => (message[2] & 0x02) != 0;

    /// <summary>Gets whether the AA (authoritative answer) flag is set.</summary>
    /// <param name="message">The reply.</param>
    /// <returns><see langword="true"/> when authoritative.</returns>
    public static bool IsAuthoritative(ReadOnlySpan<byte> message) => (message[2] & 0x04) != 0;

    /// <summary>Gets whether the QR flag is set (the message is a reply).</summary>
    /// <param name="message">The message.</param>
    /// <returns><see langword="true"/> for a reply.</returns>
    public static bool IsResponse(ReadOnlySpan<byte> message) => (message[2] & 0x80) != 0;

    /// <summary>Gets the four section counts of a message.</summary>
    /// <param name="message">The message.</param>
    /// <returns>QDCOUNT, ANCOUNT, NSCOUNT and ARCOUNT.</returns>
    public static (int Questions, int Answers, int Authority, int Additional) Counts(ReadOnlySpan<byte> message) =>
        (BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
         BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
         BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
         BinaryPrimitives.ReadUInt16BigEndian(message[10..]));

    private static void AppendUInt16(List<byte> m, ushort value)
    {
        m.Add((byte)(value >> 8));
        m.Add((byte)value);
    }
}
