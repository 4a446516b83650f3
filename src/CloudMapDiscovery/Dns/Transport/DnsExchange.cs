using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns.Transport;

/// <summary>
/// Asks one question of one name server: UDP with EDNS(0) from a fresh ephemeral port; the same query over TCP when the
/// reply is truncated, or when it matches the query (ID and question) but cannot be read, which is what a reply cut
/// short without the TC bit looks like; and once more without EDNS if the server rejects it.
/// </summary>
/// <remarks>Replies that do not match the query are never read further than that check.</remarks>
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

    private async ValueTask<ExchangeResult> ExchangeOnceAsync(IPEndPoint server, string name, DnsRecordType type, int ednsSize, CancellationToken cancellationToken)
    {
        var id = DnsQueryWriter.NewId();
        var query = new byte[DnsQueryWriter.MaxQuerySize];
        var queryLength = DnsQueryWriter.Write(query, id, name, type, ednsSize);

        var buffer = ArrayPool<byte>.Shared.Rent(MaxUdpReply);
        try
        {
            ExchangeResult result;
            using (var timeout = new CancellationTokenSource(_timeout, _timeProvider))
            using (cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout))
            {
                var (length, failure) = await DnsSockets.UdpAsync(server, query.AsMemory(0, queryLength), buffer, id, name, type, _timeout, timeout.Token, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    return ExchangeResult.Failed(failure);
                }

                if (DnsHeader.Read(buffer.AsSpan(0, length)).IsTruncated)
                {
                    return await TcpAsync(server, query.AsMemory(0, queryLength), id, name, type, null, cancellationToken).ConfigureAwait(false);
                }

                // Read within the attempt's time: a reply that takes long to process counts against it too.
                result = Interpret(server, DnsTransport.Udp, buffer.AsSpan(0, length), name, type, timeout.Token, cancellationToken);
            }

            // It is ours (ID and question) but unreadable, cut short without TC or broken: the stream may carry it whole.
            if (result.Failure is { Outcome: DnsAttemptOutcome.MalformedReply } unreadable)
            {
                return await TcpAsync(server, query.AsMemory(0, queryLength), id, name, type, unreadable.Detail, cancellationToken).ConfigureAwait(false);
            }

            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<ExchangeResult> TcpAsync(
        IPEndPoint server, ReadOnlyMemory<byte> query, ushort id, string name, DnsRecordType type, string? udpProblem, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_timeout, _timeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        var (reply, length, failure) = await DnsSockets.TcpAsync(server, query, _timeout, timeout.Token, cancellationToken).ConfigureAwait(false);
        ExchangeResult result;
        try
        {
            // A stream is connected to the server we chose, so a mismatch is a broken server, not a spoof.
            result = failure is not null ? ExchangeResult.Failed(failure)
                : !IsReplyTo(reply.AsSpan(0, length), id, name, type) ? ExchangeResult.Failed(new DnsServerAttempt(server, DnsTransport.Tcp, DnsAttemptOutcome.MalformedReply, "the TCP reply does not match the query (ID or question)"))
                : Interpret(server, DnsTransport.Tcp, reply.AsSpan(0, length), name, type, timeout.Token, cancellationToken);
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
        return ExchangeResult.Failed(new DnsServerAttempt(server, DnsTransport.Tcp, outcome, $"the UDP reply could not be read ({udpProblem}), and over TCP: {tcp.Detail}"));
    }

    private ExchangeResult Interpret(IPEndPoint server, DnsTransport transport, ReadOnlySpan<byte> message, string name, DnsRecordType type, CancellationToken timeoutToken, CancellationToken cancellationToken)
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
            var response = DnsResponseParser.Parse(message, name, type, _maxCnameChain, timeoutToken);

            // A caller who gave up while the reply was being read gets no late answer.
            cancellationToken.ThrowIfCancellationRequested();
            return ExchangeResult.Success(response, transport);
        }
        catch (DnsFormatException ex)
        {
            return ExchangeResult.Failed(new DnsServerAttempt(server, transport, DnsAttemptOutcome.MalformedReply, ex.Message));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var detail = string.Create(CultureInfo.InvariantCulture, $"timed out after {_timeout.TotalSeconds:0.###} s while reading a {message.Length}-byte reply");
            return ExchangeResult.Failed(new DnsServerAttempt(server, transport, DnsAttemptOutcome.Timeout, detail));
        }
    }
}
