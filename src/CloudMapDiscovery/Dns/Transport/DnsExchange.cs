using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns.Transport;

/// <summary>
/// Asks one question of one name server: UDP with EDNS(0) from a fresh ephemeral port, the same query
/// over TCP when the reply is truncated, and once more without EDNS if the server rejects it.
/// </summary>
internal sealed class DnsExchange
{
    private const int MaxUdpReply = 65_535;

    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly int _udpPayloadSize;
    private readonly int _maxCnameChain;

    public DnsExchange(TimeProvider timeProvider, TimeSpan timeout, int udpPayloadSize, int maxCnameChain)
    {
        _timeProvider = timeProvider;
        _timeout = timeout;
        _udpPayloadSize = udpPayloadSize;
        _maxCnameChain = maxCnameChain;
    }

    public async ValueTask<ExchangeResult> ExchangeAsync(IPEndPoint server, string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        var result = await ExchangeOnceAsync(server, name, type, _udpPayloadSize, cancellationToken).ConfigureAwait(false);

        // RFC 6891 section 7: a FORMERR to a query with OPT may mean the server predates EDNS.
        if (result.Failure is { Outcome: DnsAttemptOutcome.FormatError, Transport: DnsTransport.Udp })
        {
            result = await ExchangeOnceAsync(server, name, type, 0, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    private async ValueTask<ExchangeResult> ExchangeOnceAsync(IPEndPoint server, string name, DnsRecordType type, int ednsSize, CancellationToken cancellationToken)
    {
        var id = DnsQueryWriter.NewId();
        var query = new byte[DnsQueryWriter.MaxQuerySize];
        var queryLength = DnsQueryWriter.Write(query, id, name, type, ednsSize);

        var buffer = ArrayPool<byte>.Shared.Rent(MaxUdpReply);
        try
        {
            var (length, failure) = await UdpAsync(server, query.AsMemory(0, queryLength), buffer, id, name, type, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return ExchangeResult.Failed(failure);
            }

            if (DnsHeader.Read(buffer.AsSpan(0, length)).IsTruncated)
            {
                return await TcpAsync(server, query.AsMemory(0, queryLength), id, name, type, cancellationToken).ConfigureAwait(false);
            }

            return Interpret(server, DnsTransport.Udp, buffer.AsSpan(0, length), name, type);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<(int Length, DnsServerAttempt? Failure)> UdpAsync(
        IPEndPoint server, ReadOnlyMemory<byte> query, byte[] buffer, ushort id, string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        var ignored = 0;
        Socket? socket = null;
        using var timeout = new CancellationTokenSource(_timeout, _timeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        try
        {
            // Inside the try: creating the socket fails too (no IPv6 on the host, out of file descriptors), and that
            // is this server's failure, not the whole lookup's.
            socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            // Connecting picks a fresh ephemeral source port for this query alone, and makes the kernel
            // drop datagrams from any other address or port (and report ICMP port unreachable to us).
            socket.Connect(server);
            await socket.SendAsync(query, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (IsReplyTo(buffer.AsSpan(0, length), id, name, type))
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
                ? string.Create(CultureInfo.InvariantCulture, $"timed out after {_timeout.TotalSeconds:0.###} s")
                : string.Create(CultureInfo.InvariantCulture, $"timed out after {_timeout.TotalSeconds:0.###} s (ignored {ignored} reply(ies) that did not match the query)");
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

    private async ValueTask<ExchangeResult> TcpAsync(
        IPEndPoint server, ReadOnlyMemory<byte> query, ushort id, string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        Socket? socket = null;
        using var timeout = new CancellationTokenSource(_timeout, _timeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        byte[]? reply = null;
        try
        {
            socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server, timeout.Token).ConfigureAwait(false);
            var framed = new byte[query.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed.AsMemory(2));
            await socket.SendAsync(framed, SocketFlags.None, timeout.Token).ConfigureAwait(false);

            var prefix = new byte[2];
            if (!await ReceiveExactlyAsync(socket, prefix, timeout.Token).ConfigureAwait(false))
            {
                return Failed(DnsAttemptOutcome.NetworkError, "the server closed the TCP connection without replying");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
            reply = ArrayPool<byte>.Shared.Rent(Math.Max((int)length, 1));
            if (!await ReceiveExactlyAsync(socket, reply.AsMemory(0, length), timeout.Token).ConfigureAwait(false))
            {
                return Failed(DnsAttemptOutcome.MalformedReply, string.Create(CultureInfo.InvariantCulture, $"the TCP reply ended before its announced {length} bytes"));
            }

            // A stream is connected to the server we chose, so a mismatch is a broken server, not a spoof.
            if (!IsReplyTo(reply.AsSpan(0, length), id, name, type))
            {
                return Failed(DnsAttemptOutcome.MalformedReply, "the TCP reply does not match the query (ID or question)");
            }

            return Interpret(server, DnsTransport.Tcp, reply.AsSpan(0, length), name, type);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(DnsAttemptOutcome.Timeout, string.Create(CultureInfo.InvariantCulture, $"timed out after {_timeout.TotalSeconds:0.###} s"));
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

        ExchangeResult Failed(DnsAttemptOutcome outcome, string detail) => ExchangeResult.Failed(new DnsServerAttempt(server, DnsTransport.Tcp, outcome, detail));
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

    private static bool IsReplyTo(ReadOnlySpan<byte> message, ushort id, string name, DnsRecordType type)
    {
        if (message.Length < DnsHeader.Size || BinaryPrimitives.ReadUInt16BigEndian(message) != id)
        {
            return false;
        }

        try
        {
            var reader = new DnsMessageReader(message);
            return reader.Header.IsResponse && reader.Header.Opcode == 0 && reader.QuestionMatches(name, type);
        }
        catch (DnsFormatException)
        {
            return false;
        }
    }

    private ExchangeResult Interpret(IPEndPoint server, DnsTransport transport, ReadOnlySpan<byte> message, string name, DnsRecordType type)
    {
        var code = DnsHeader.Read(message).ResponseCode;
        var outcome = code switch
        {
            DnsResponseCode.NoError or DnsResponseCode.NXDomain => (DnsAttemptOutcome?)null,
            DnsResponseCode.ServFail => DnsAttemptOutcome.ServerFailure,
            DnsResponseCode.Refused => DnsAttemptOutcome.Refused,
            DnsResponseCode.NotImp => DnsAttemptOutcome.NotImplemented,
            DnsResponseCode.FormErr => DnsAttemptOutcome.FormatError,
            _ => DnsAttemptOutcome.OtherResponseCode,
        };
        if (outcome is not null)
        {
            return ExchangeResult.Failed(new DnsServerAttempt(server, transport, outcome.Value, code.ToString().ToUpperInvariant()));
        }

        try
        {
            return ExchangeResult.Success(DnsResponseParser.Parse(message, name, type, _maxCnameChain), transport);
        }
        catch (DnsFormatException ex)
        {
            return ExchangeResult.Failed(new DnsServerAttempt(server, transport, DnsAttemptOutcome.MalformedReply, ex.Message));
        }
    }

    private static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused (nothing listening)",
        SocketError.ConnectionReset => "connection reset",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
        _ => ex.SocketErrorCode.ToString(),
    };
}
