using System.Buffers.Binary;
using System.Text;

namespace CloudMapDiscovery.Testing.Internal;

internal enum QueryParseStatus
{
    /// <summary>Not worth a reply: too short for a header, or a response rather than a query.</summary>
    Ignore,

    /// <summary>A query header, but the rest does not parse; reply FORMERR.</summary>
    FormatError,

    /// <summary>A well-formed message with an opcode other than QUERY; reply NOTIMP.</summary>
    NotImplemented,

    /// <summary>A query to answer.</summary>
    Ok,
}

/// <summary>Reads queries defensively: every length and pointer is checked, so garbage ends in a status, never an exception.</summary>
internal static class DnsQueryParser
{
    private const int MaxPointerJumps = 32;

    public static QueryParseStatus Parse(ReadOnlySpan<byte> message, out ushort id, out ushort flags, out DnsQuery? query)
    {
        query = null;
        id = 0;
        flags = 0;
        if (message.Length < 12)
        {
            return QueryParseStatus.Ignore;
        }

        id = BinaryPrimitives.ReadUInt16BigEndian(message);
        flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((flags & 0x8000) != 0)
        {
            // Answering responses could start a reply loop between two servers.
            return QueryParseStatus.Ignore;
        }

        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var authorities = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        var additionals = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if (questions != 1)
        {
            return QueryParseStatus.FormatError;
        }

        var pos = 12;
        if (!TryReadName(message, ref pos, out var labels) || pos + 4 > message.Length)
        {
            return QueryParseStatus.FormatError;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(message[pos..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 2)..]);
        pos += 4;

        var hasEdns = false;
        ushort payloadSize = 0;
        byte version = 0;
        var total = answers + authorities + additionals;
        for (var i = 0; i < total; i++)
        {
            if (!TryReadName(message, ref pos, out _) || pos + 10 > message.Length)
            {
                return QueryParseStatus.FormatError;
            }

            var recordType = BinaryPrimitives.ReadUInt16BigEndian(message[pos..]);
            var recordClass = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 2)..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(pos + 4)..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 8)..]);
            pos += 10;
            if (pos + length > message.Length)
            {
                return QueryParseStatus.FormatError;
            }

            if (recordType == 41 && i >= answers + authorities)
            {
                if (hasEdns)
                {
                    // RFC 6891 section 6.1.1: more than one OPT record is a format error.
                    return QueryParseStatus.FormatError;
                }

                hasEdns = true;
                payloadSize = recordClass;
                version = (byte)(ttl >> 16);
            }

            pos += length;
        }

        query = new DnsQuery
        {
            Id = id,
            Flags = flags,
            Labels = labels,
            Name = DnsNames.AsciiLower(string.Join('.', labels)),
            Type = type,
            Class = @class,
            HasEdns = hasEdns,
            EdnsPayloadSize = payloadSize,
            EdnsVersion = version,
        };
        return query.Opcode == 0 ? QueryParseStatus.Ok : QueryParseStatus.NotImplemented;
    }

    private static bool TryReadName(ReadOnlySpan<byte> message, ref int pos, out string[] labels)
    {
        var result = new List<string>();
        labels = [];
        var cursor = pos;
        var end = -1;
        var jumps = 0;
        var wireLength = 1;
        while (true)
        {
            if (cursor >= message.Length)
            {
                return false;
            }

            var length = message[cursor];
            if ((length & 0xC0) == 0xC0)
            {
                if (cursor + 1 >= message.Length || ++jumps > MaxPointerJumps)
                {
                    return false;
                }

                if (end < 0)
                {
                    end = cursor + 2;
                }

                cursor = ((length & 0x3F) << 8) | message[cursor + 1];
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                return false;
            }

            if (length == 0)
            {
                pos = end < 0 ? cursor + 1 : end;
                labels = [.. result];
                return true;
            }

            wireLength += length + 1;
            if (wireLength > 255 || cursor + 1 + length > message.Length)
            {
                return false;
            }

            result.Add(Encoding.Latin1.GetString(message.Slice(cursor + 1, length)));
            cursor += 1 + length;
        }
    }
}
