using System.Buffers.Binary;
using System.Net;
using CloudMapDiscovery.Dns;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Turns one received message into the replies to send, applying any injected fault.</summary>
internal sealed partial class QueryProcessor(ZoneData zone, FaultTable faults, QueryCounters counters, ushort payloadSize, ILogger logger)
{
    private const int ClassicUdpLimit = 512;

    public ReplyPlan Process(ReadOnlySpan<byte> message, bool tcp, EndPoint remote)
    {
        var status = DnsQueryParser.Parse(message, out var id, out var flags, out var query);
        switch (status)
        {
            case QueryParseStatus.Ignore:
                LogIgnored(logger, message.Length, remote);
                return ReplyPlan.None;
            case QueryParseStatus.FormatError:
                counters.Record(null, 0, tcp);
                LogFormatError(logger, remote);
                return ReplyPlan.Single(new DnsResponse { Id = id, QueryFlags = flags, ResponseCode = (int)DnsResponseCode.FormErr }.Serialize(int.MaxValue));
            default:
                break;
        }

        var q = query!;
        counters.Record(q.Name, q.Type, tcp);
        var maxLength = tcp ? ushort.MaxValue : q.HasEdns ? Math.Max(ClassicUdpLimit, (int)q.EdnsPayloadSize) : ClassicUdpLimit;
        if (status == QueryParseStatus.NotImplemented)
        {
            return ReplyPlan.Single(CreateResponse(q, DnsResponseCode.NotImp).Serialize(maxLength));
        }

        if (q.HasEdns && q.EdnsVersion != 0)
        {
            // RFC 6891 section 6.1.3: BADVERS (16) for an EDNS version we do not speak.
            return ReplyPlan.Single(CreateResponse(q, (DnsResponseCode)16).Serialize(maxLength));
        }

        var fault = faults.Take(q.Name, q.Type, tcp);
        var transport = tcp ? "tcp" : "udp";
        if (fault is not null)
        {
            LogFault(logger, q.Name, (DnsRecordType)q.Type, transport, remote, fault);
        }

        switch (fault?.Kind)
        {
            case null:
            case DnsFaultKind.Delay:
                var response = Answer(q);
                var bytes = response.Serialize(maxLength);
                LogAnswered(logger, q.Name, (DnsRecordType)q.Type, transport, remote, (DnsResponseCode)response.ResponseCode, response.Answers.Count, (bytes[2] & 0x02) != 0 ? ", truncated" : string.Empty);
                return new ReplyPlan(fault?.Duration ?? TimeSpan.Zero, [new Reply(bytes, FromOtherPort: false)]);
            case DnsFaultKind.Drop:
                return ReplyPlan.None;
            case DnsFaultKind.ResponseCode:
                return ReplyPlan.Single(CreateResponse(q, fault.ResponseCode).Serialize(maxLength));
            case DnsFaultKind.Truncate:
                var truncated = CreateResponse(q, DnsResponseCode.NoError);
                truncated.Authoritative = true;
                truncated.Truncated = true;
                return ReplyPlan.Single(truncated.Serialize(maxLength));
            case DnsFaultKind.WrongId:
                var wrongId = Answer(q);
                wrongId.Id = OtherId(q.Id);
                return ReplyPlan.Single(wrongId.Serialize(maxLength));
            case DnsFaultKind.WrongQuestion:
                var wrongQuestion = Answer(q);
                wrongQuestion.QuestionLabels = ["mismatch", .. q.Labels];
                return ReplyPlan.Single(wrongQuestion.Serialize(maxLength));
            case DnsFaultKind.Malformed:
                return ReplyPlan.Single(MalformedReplies.Build(q, fault.Malformation));
            case DnsFaultKind.RawReply:
                var raw = fault.ReplyBytes.ToArray();
                if (fault.ReplaceId && raw.Length >= 2)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(raw, q.Id);
                }

                return ReplyPlan.Single(raw);
            case DnsFaultKind.SpoofFirst:
                var bogus = CreateResponse(q, DnsResponseCode.NXDomain);
                bogus.Authoritative = true;
                var otherPort = !tcp && (fault.Spoofing & DnsSpoofing.OtherSourcePort) != 0;
                if (!otherPort || (fault.Spoofing & DnsSpoofing.WrongId) != 0)
                {
                    bogus.Id = OtherId(q.Id);
                }

                return new ReplyPlan(TimeSpan.Zero, [new Reply(bogus.Serialize(maxLength), otherPort), new Reply(Answer(q).Serialize(maxLength), FromOtherPort: false)]);
            default:
                throw new InvalidOperationException($"Unknown fault {fault}.");
        }
    }

    private static ushort OtherId(ushort id) => (ushort)(id ^ 0x5A5A);

    private DnsResponse Answer(DnsQuery query)
    {
        var response = CreateResponse(query, DnsResponseCode.NoError);
        zone.Answer(query, response);
        return response;
    }

    private DnsResponse CreateResponse(DnsQuery query, DnsResponseCode code) => new()
    {
        Id = query.Id,
        QueryFlags = query.Flags,
        QuestionLabels = query.Labels,
        QuestionType = query.Type,
        QuestionClass = query.Class,
        ResponseCode = (int)code,
        IncludeOpt = query.HasEdns,
        OptPayloadSize = payloadSize,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored {Length} bytes from {Remote}: not a query")]
    private static partial void LogIgnored(ILogger logger, int length, EndPoint remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "FORMERR to {Remote}: the query does not parse")]
    private static partial void LogFormatError(ILogger logger, EndPoint remote);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Name} {Type} over {Transport} from {Remote}: injected fault {Fault}")]
    private static partial void LogFault(ILogger logger, string name, DnsRecordType type, string transport, EndPoint remote, DnsFault fault);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Name} {Type} over {Transport} from {Remote}: {ResponseCode}, {Answers} answers{Truncation}")]
    private static partial void LogAnswered(ILogger logger, string name, DnsRecordType type, string transport, EndPoint remote, DnsResponseCode responseCode, int answers, string truncation);
}
