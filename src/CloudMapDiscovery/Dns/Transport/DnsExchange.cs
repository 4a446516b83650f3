using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns.Transport;

/// <summary>Asks one question of one name server, over UDP and, when the reply calls for it, TCP.</summary>
/// <remarks>
/// UDP with EDNS(0) from a fresh ephemeral port; the same query over TCP when the reply is truncated, or when it
/// matches the query (ID and question) but cannot be read, which is what a reply cut short without the TC bit looks
/// like; and once more without EDNS if the server rejects it. Replies that do not match the query are never read
/// further than that check. Each transport has the attempt's timeout, and the reply is read within it. The caller's
/// own cancellation propagates as <see cref="OperationCanceledException"/>; everything else becomes a
/// <see cref="DnsServerAttempt"/>.
/// </remarks>
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
        var result = await UdpAsync(server, name, type, _udpPayloadSize, cancellationToken).ConfigureAwait(false);

        // RFC 6891 section 7: a FORMERR to a query with OPT may mean the server predates EDNS.
        if (result.Failure is { Outcome: DnsAttemptOutcome.FormatError, Transport: DnsTransport.Udp })
        {
            result = await UdpAsync(server, name, type, 0, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>Whether a datagram is provably the reply to our query: its ID, and exactly our one question.</summary>
    public static bool IsReplyTo(ReadOnlySpan<byte> message, ushort id, string name, DnsRecordType type)
    {
        // The question count first: a reply claiming thousands of questions is not ours and is not walked.
        if (message.Length < DnsHeader.Size || BinaryPrimitives.ReadUInt16BigEndian(message) != id || BinaryPrimitives.ReadUInt16BigEndian(message[4..]) != 1)
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

    private async ValueTask<ExchangeResult> UdpAsync(IPEndPoint server, string name, DnsRecordType type, int ednsSize, CancellationToken cancellationToken)
    {
        var id = DnsQueryWriter.NewId();
        var query = new byte[DnsQueryWriter.MaxQuerySize];
        var queryLength = DnsQueryWriter.Write(query, id, name, type, ednsSize);
        var buffer = ArrayPool<byte>.Shared.Rent(MaxUdpReply);
        var ignored = 0;
        Socket? socket = null;
        try
        {
            ExchangeResult result;
            using (var timeout = new CancellationTokenSource(_timeout, _timeProvider))
            using (cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout))
            {
                // Connecting picks a fresh ephemeral source port for this query alone, and makes the kernel drop datagrams
                // from any other address or port (and report ICMP port unreachable to us). Creating the socket can fail
                // too (no IPv6 on the host, out of file descriptors): that is this server's failure.
                socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                socket.Connect(server);
                await socket.SendAsync(query.AsMemory(0, queryLength), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                int length;
                while (true)
                {
                    length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (IsReplyTo(buffer.AsSpan(0, length), id, name, type))
                    {
                        break;
                    }

                    // Not provably ours (wrong ID or question, or too broken to tell): a spoofing attempt or a late answer
                    // to an earlier query. Keep waiting for the real one until the timeout.
                    ignored++;
                }

                if (DnsHeader.Read(buffer.AsSpan(0, length)).IsTruncated)
                {
                    return await TcpAsync(server, query.AsMemory(0, queryLength), id, name, type, null, cancellationToken).ConfigureAwait(false);
                }

                result = Read(server, DnsTransport.Udp, buffer.AsSpan(0, length), name, type, timeout.Token, cancellationToken);
            }

            // It is ours (ID and question) but unreadable, cut short without TC or broken: the stream may carry it whole.
            return result.Failure is { Outcome: DnsAttemptOutcome.MalformedReply } unreadable
                ? await TcpAsync(server, query.AsMemory(0, queryLength), id, name, type, unreadable.Detail, cancellationToken).ConfigureAwait(false)
                : result;
        }
        catch (Exception ex) when (IsServerFailure(ex, cancellationToken))
        {
            var note = ignored == 0 ? null : string.Create(CultureInfo.InvariantCulture, $" (ignored {ignored} reply(ies) that did not match the query)");
            return ExchangeResult.Failed(Failure(server, DnsTransport.Udp, ex, note));
        }
        finally
        {
            socket?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<ExchangeResult> TcpAsync(
        IPEndPoint server, ReadOnlyMemory<byte> query, ushort id, string name, DnsRecordType type, string? udpProblem, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_timeout, _timeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        byte[]? reply = null;
        ExchangeResult result;
        try
        {
            using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server, timeout.Token).ConfigureAwait(false);
            var framed = new byte[query.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
            query.CopyTo(framed.AsMemory(2));
            await socket.SendAsync(framed, SocketFlags.None, timeout.Token).ConfigureAwait(false);

            var prefix = new byte[2];
            var length = await ReceiveExactlyAsync(socket, prefix, timeout.Token).ConfigureAwait(false) ? BinaryPrimitives.ReadUInt16BigEndian(prefix) : -1;
            reply = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
            if (length < 0)
            {
                result = Failed(DnsAttemptOutcome.NetworkError, "the server closed the TCP connection without replying");
            }
            else if (!await ReceiveExactlyAsync(socket, reply.AsMemory(0, length), timeout.Token).ConfigureAwait(false))
            {
                result = Failed(DnsAttemptOutcome.MalformedReply, string.Create(CultureInfo.InvariantCulture, $"the TCP reply ended before its announced {length} bytes"));
            }
            else if (!IsReplyTo(reply.AsSpan(0, length), id, name, type))
            {
                // A stream is connected to the server we chose, so a mismatch is a broken server, not a spoof.
                result = Failed(DnsAttemptOutcome.MalformedReply, "the TCP reply does not match the query (ID or question)");
            }
            else
            {
                result = Read(server, DnsTransport.Tcp, reply.AsSpan(0, length), name, type, timeout.Token, cancellationToken);
            }
        }
        catch (Exception ex) when (IsServerFailure(ex, cancellationToken))
        {
            result = ExchangeResult.Failed(Failure(server, DnsTransport.Tcp, ex, null));
        }
        finally
        {
            if (reply is not null)
            {
                ArrayPool<byte>.Shared.Return(reply);
            }
        }

        if (udpProblem is null || result.Failure is not { } tcp)
        {
            return result;
        }

        // One attempt, two transports: say what each gave. Without a TCP reply, the unreadable UDP one is the cause.
        var outcome = tcp.Outcome is DnsAttemptOutcome.Timeout or DnsAttemptOutcome.NetworkError ? DnsAttemptOutcome.MalformedReply : tcp.Outcome;
        return Failed(outcome, $"the UDP reply could not be read ({udpProblem}), and over TCP: {tcp.Detail}");

        ExchangeResult Failed(DnsAttemptOutcome outcome, string detail) => ExchangeResult.Failed(new DnsServerAttempt(server, DnsTransport.Tcp, outcome, detail));
    }

    private ExchangeResult Read(IPEndPoint server, DnsTransport transport, ReadOnlySpan<byte> message, string name, DnsRecordType type, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        var code = DnsHeader.Read(message).ResponseCode;
        DnsAttemptOutcome? outcome = code switch
        {
            DnsResponseCode.NoError or DnsResponseCode.NXDomain => null,
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
            var response = DnsResponseParser.Parse(message, name, type, _maxCnameChain, timeoutToken);

            // A caller who gave up while the reply was being read gets no late answer.
            cancellationToken.ThrowIfCancellationRequested();
            return ExchangeResult.Success(response, transport);
        }
        catch (DnsFormatException ex)
        {
            return ExchangeResult.Failed(new DnsServerAttempt(server, transport, DnsAttemptOutcome.MalformedReply, ex.Message));
        }
        catch (OperationCanceledException ex) when (IsServerFailure(ex, cancellationToken))
        {
            return ExchangeResult.Failed(Failure(server, transport, ex, string.Create(CultureInfo.InvariantCulture, $" while reading a {message.Length}-byte reply")));
        }
    }

    // A timeout or a network error is the server's failure; the caller's own cancellation is not.
    private static bool IsServerFailure(Exception ex, CancellationToken cancellationToken)
        => ex is SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private DnsServerAttempt Failure(IPEndPoint server, DnsTransport transport, Exception ex, string? note) => ex is SocketException socket
        ? new DnsServerAttempt(server, transport, DnsAttemptOutcome.NetworkError, Describe(socket))
        : new DnsServerAttempt(server, transport, DnsAttemptOutcome.Timeout, string.Create(CultureInfo.InvariantCulture, $"timed out after {_timeout.TotalSeconds:0.###} s{note}"));

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
