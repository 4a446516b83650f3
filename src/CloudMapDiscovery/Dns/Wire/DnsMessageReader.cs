using System.Buffers.Binary;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// The header and question of one DNS message, bounds checked (a <see cref="DnsFormatException"/> otherwise), and the
/// checked reading of one record's fixed fields (the records themselves are walked by <see cref="DnsResponseParser"/>).
/// </summary>
internal ref struct DnsMessageReader
{
    public const ushort ClassInternet = 1;

    private readonly ReadOnlySpan<byte> _message;

    public DnsMessageReader(ReadOnlySpan<byte> message)
    {
        _message = message;
        Header = DnsHeader.Read(message);
        var pos = DnsHeader.Size;
        for (var i = 0; i < Header.QuestionCount; i++)
        {
            if (i == 0)
            {
                QuestionNameOffset = pos;
            }

            pos = DnsName.Skip(message, pos);
            if (pos + 4 > message.Length)
            {
                throw new DnsFormatException("the question runs past the end of the message", pos);
            }

            if (i == 0)
            {
                QuestionType = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[pos..]);
                QuestionClass = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 2)..]);
            }

            pos += 4;
        }
    }

    public DnsHeader Header { get; }

    public int QuestionNameOffset { get; } = -1;

    public DnsRecordType QuestionType { get; }

    public ushort QuestionClass { get; }

    /// <summary>Whether the (first) question is exactly the one that was asked.</summary>
    public readonly bool QuestionMatches(string name, DnsRecordType type)
        => Header.QuestionCount == 1
            && QuestionType == type
            && QuestionClass == ClassInternet
            && DnsName.EqualsName(_message, QuestionNameOffset, name);

    /// <summary>The fixed fields of a record whose owner name ends at <paramref name="pos"/>, checked against the message.</summary>
    public static DnsRecordHeader ReadRecord(ReadOnlySpan<byte> message, DnsSection section, int nameOffset, int pos, int remaining)
    {
        if (pos + 10 > message.Length)
        {
            throw new DnsFormatException($"a record header in the {section} section runs past the end of the message ({remaining} records announced but missing)", pos);
        }

        var type = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[pos..]);
        var cls = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 2)..]);
        var ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(pos + 4)..]);
        var length = BinaryPrimitives.ReadUInt16BigEndian(message[(pos + 8)..]);
        var dataOffset = pos + 10;
        if (dataOffset + length > message.Length)
        {
            throw new DnsFormatException($"the data of a {type} record ({length} bytes) runs past the end of the message", dataOffset);
        }

        // RFC 2181 section 8: a TTL with the top bit set is to be read as zero.
        return new DnsRecordHeader(section, nameOffset, type, cls, ttl > int.MaxValue ? 0 : ttl, dataOffset, length);
    }
}
