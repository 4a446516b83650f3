using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Dns.Transport;

/// <summary>
/// The socket side of one exchange: send a query, wait for the reply that is provably ours (UDP) or read the one reply
/// of the stream (TCP).
/// </summary>
/// <remarks>
/// Timeouts come in as a token; the caller's own cancellation propagates as <see cref="OperationCanceledException"/>,
/// everything else becomes a <see cref="DnsServerAttempt"/>.
/// </remarks>
internal static class DnsSockets
{
    /// <summary>The reply's length in <paramref name="buffer"/>, or why there is none.</summary>
    public static async ValueTask<(int Length, DnsServerAttempt? Failure)> UdpAsync(
        IPEndPoint server, ReadOnlyMemory<byte> query, byte[] buffer, ushort id, string name, DnsRecordType type, TimeSpan timeout, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        var ignored = 0;
        Socket? socket = null;
        try
        {
            // Inside the try: creating the socket fails too (no IPv6 on the host, out of file descriptors), and that
            // is this server's failure, not the whole lookup's.
            socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            // Connecting picks a fresh ephemeral source port for this query alone, and makes the kernel
            // drop datagrams from any other address or port (and report ICMP port unreachable to us).
            socket.Connect(server);
            await socket.SendAsync(query, SocketFlags.None, timeoutToken).ConfigureAwait(false);
            while (true)
            {
                var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeoutToken).ConfigureAwait(false);
                if (DnsExchange.IsReplyTo(buffer.AsSpan(0, length), id, name, type))
                {
                    return (length, null);
                }

                // Not provably ours (wrong ID or question, or too broken to tell): a spoofing attempt or a
                // late answer to an earlier query. Keep waiting for the real one until the timeout.
                ignored++;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var detail = ignored == 0
                ? string.Create(CultureInfo.InvariantCulture, $"timed out after {timeout.TotalSeconds:0.###} s")
                : string.Create(CultureInfo.InvariantCulture, $"timed out after {timeout.TotalSeconds:0.###} s (ignored {ignored} reply(ies) that did not match the query)");
            return (0, new DnsServerAttempt(server, DnsTransport.Udp, DnsAttemptOutcome.Timeout, detail));
        }
        catch (SocketException ex)
        {
            return (0, new DnsServerAttempt(server, DnsTransport.Udp, DnsAttemptOutcome.NetworkError, Describe(ex)));
        }
        finally
        {
            socket?.Dispose();
        }
    }

    /// <summary>The reply in a pooled array (the caller returns it), or why there is none.</summary>
    public static async ValueTask<(byte[]? Reply, int Length, DnsServerAttempt? Failure)> TcpAsync(
        IPEndPoint server, ReadOnlyMemory<byte> query, TimeSpan timeout, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        Socket? socket = null;
        byte[]? reply = null;
        try
        {
            socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server, timeoutToken).ConfigureAwait(false);
            var framed = new byte[query.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed.AsMemory(2));
            await socket.SendAsync(framed, SocketFlags.None, timeoutToken).ConfigureAwait(false);

            var prefix = new byte[2];
            if (!await ReceiveExactlyAsync(socket, prefix, timeoutToken).ConfigureAwait(false))
            {
                return Failed(DnsAttemptOutcome.NetworkError, "the server closed the TCP connection without replying");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
            reply = ArrayPool<byte>.Shared.Rent(Math.Max((int)length, 1));
            if (!await ReceiveExactlyAsync(socket, reply.AsMemory(0, length), timeoutToken).ConfigureAwait(false))
            {
                return Failed(DnsAttemptOutcome.MalformedReply, string.Create(CultureInfo.InvariantCulture, $"the TCP reply ended before its announced {length} bytes"));
            }

            var done = (reply, (int)length, (DnsServerAttempt?)null);
            reply = null;
            return done;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(DnsAttemptOutcome.Timeout, string.Create(CultureInfo.InvariantCulture, $"timed out after {timeout.TotalSeconds:0.###} s"));
        }
        catch (SocketException ex)
        {
            return Failed(DnsAttemptOutcome.NetworkError, Describe(ex));
        }
        finally
        {
            socket?.Dispose();
            if (reply is not null)
            {
                ArrayPool<byte>.Shared.Return(reply);
            }
        }

        (byte[]?, int, DnsServerAttempt?) Failed(DnsAttemptOutcome outcome, string detail) => (null, 0, new DnsServerAttempt(server, DnsTransport.Tcp, outcome, detail));
    }

    private static async ValueTask<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            buffer = buffer[n..];
        }

        return true;
    }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused (nothing listening)",
        SocketError.ConnectionReset => "connection reset",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
        _ => ex.SocketErrorCode.ToString(),
    };
}
