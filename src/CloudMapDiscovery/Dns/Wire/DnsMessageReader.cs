using System.Buffers.Binary;
using System.Net;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// A forward-only, allocation-free walk over the records of one DNS message. Every read is bounds
/// checked and reports a <see cref="DnsFormatException"/>; counts are trusted only as far as the bytes go.
/// </summary>
internal ref struct DnsMessageReader
{
    public const ushort ClassInternet = 1;

    private readonly ReadOnlySpan<byte> _message;
    private int _position;
    private int _remainingInSection;
    private DnsSection _section;
    private int _authorities;
    private int _additionals;

    public DnsMessageReader(ReadOnlySpan<byte> message)
    {
        _message = message;
        Header = DnsHeader.Read(message);
        _position = DnsHeader.Size;
        for (var i = 0; i < Header.QuestionCount; i++)
        {
            if (i == 0)
            {
                QuestionNameOffset = _position;
            }

            _position = DnsName.Skip(message, _position);
            if (_position + 4 > message.Length)
            {
                throw new DnsFormatException("the question runs past the end of the message", _position);
            }

            if (i == 0)
            {
                QuestionType = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[_position..]);
                QuestionClass = BinaryPrimitives.ReadUInt16BigEndian(message[(_position + 2)..]);
            }

            _position += 4;
        }

        _section = DnsSection.Answer;
        _remainingInSection = Header.AnswerCount;
        _authorities = Header.AuthorityCount;
        _additionals = Header.AdditionalCount;
    }

    public DnsHeader Header { get; }

    public int QuestionNameOffset { get; } = -1;

    public DnsRecordType QuestionType { get; }

    public ushort QuestionClass { get; }

    public readonly ReadOnlySpan<byte> Message => _message;

    /// <summary>Whether the (first) question is exactly the one that was asked.</summary>
    public readonly bool QuestionMatches(string name, DnsRecordType type)
        => Header.QuestionCount == 1
            && QuestionType == type
            && QuestionClass == ClassInternet
            && DnsName.EqualsName(_message, QuestionNameOffset, name);

    /// <summary>Reads the next record header in the answer, authority and additional sections, in that order.</summary>
    public bool TryReadNext(out DnsRecordHeader record)
    {
        while (_remainingInSection == 0)
        {
            switch (_section)
            {
                case DnsSection.Answer:
                    _section = DnsSection.Authority;
                    _remainingInSection = _authorities;
                    break;
                case DnsSection.Authority:
                    _section = DnsSection.Additional;
                    _remainingInSection = _additionals;
                    break;
                default:
                    record = default;
                    return false;
            }
        }

        var nameOffset = _position;
        record = ReadRecord(_message, _section, nameOffset, DnsName.Skip(_message, _position), _remainingInSection);
        _position = record.DataOffset + record.DataLength;
        _remainingInSection--;
        return true;
    }

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

    /// <summary>Walks every record once, so that a malformed message fails before any of it is used.</summary>
    public readonly void ValidateAll()
    {
        var copy = this;
        while (copy.TryReadNext(out var r))
        {
            copy.ValidateData(r);
        }
    }

    public readonly bool NameEquals(in DnsRecordHeader record, string name) => DnsName.EqualsName(_message, record.NameOffset, name);

    public readonly string ReadName(in DnsRecordHeader record, string reuseIfEqual) => DnsName.ReadOrReuse(_message, record.NameOffset, reuseIfEqual);

    public readonly IPAddress ReadAddress(in DnsRecordHeader record)
    {
        var data = _message.Slice(record.DataOffset, record.DataLength);
        return new IPAddress(data);
    }

    public readonly string ReadCanonicalNameTarget(in DnsRecordHeader record) => DnsName.Read(_message, record.DataOffset, out _);

    public readonly bool CanonicalNameTargetEquals(in DnsRecordHeader record, string name) => DnsName.EqualsName(_message, record.DataOffset, name);

    public readonly (ushort Priority, ushort Weight, ushort Port) ReadServiceFields(in DnsRecordHeader record)
    {
        var data = _message.Slice(record.DataOffset, 6);
        return (BinaryPrimitives.ReadUInt16BigEndian(data), BinaryPrimitives.ReadUInt16BigEndian(data[2..]), BinaryPrimitives.ReadUInt16BigEndian(data[4..]));
    }

    public readonly string ReadServiceTarget(in DnsRecordHeader record) => DnsName.Read(_message, record.DataOffset + 6, out _);

    public readonly bool ServiceTargetEquals(in DnsRecordHeader record, string name) => DnsName.EqualsName(_message, record.DataOffset + 6, name);

    /// <summary>The negative-caching TTL an SOA record gives: the lesser of its own TTL and its MINIMUM field (RFC 2308 section 5).</summary>
    public readonly uint ReadNegativeTtl(in DnsRecordHeader record)
    {
        var pos = DnsName.Skip(_message, record.DataOffset);
        pos = DnsName.Skip(_message, pos);
        var minimum = BinaryPrimitives.ReadUInt32BigEndian(_message[(pos + 16)..]);
        minimum = minimum > int.MaxValue ? 0 : minimum;
        return Math.Min(record.Ttl, minimum);
    }

    /// <summary>Checks that the record data of the types we read has the shape the type requires and stays inside its RDLENGTH.</summary>
    public readonly void ValidateData(in DnsRecordHeader record)
    {
        var end = record.DataOffset + record.DataLength;
        switch (record.Type)
        {
            case DnsRecordType.A when record.DataLength != 4:
            case DnsRecordType.AAAA when record.DataLength != 16:
                throw new DnsFormatException($"an {record.Type} record has {record.DataLength} bytes of data", record.DataOffset);
            case DnsRecordType.CNAME:
                if (DnsName.Skip(_message, record.DataOffset) > end)
                {
                    throw new DnsFormatException("a CNAME target runs past its record", record.DataOffset);
                }

                break;
            case DnsRecordType.SRV:
                if (record.DataLength < 7 || DnsName.Skip(_message, record.DataOffset + 6) > end)
                {
                    throw new DnsFormatException("an SRV record is shorter than its fields", record.DataOffset);
                }

                break;
            case DnsRecordType.SOA:
                var pos = DnsName.Skip(_message, record.DataOffset);
                if (pos >= end)
                {
                    throw new DnsFormatException("an SOA record is shorter than its fields", record.DataOffset);
                }

                pos = DnsName.Skip(_message, pos);
                if (pos + 20 > end)
                {
                    throw new DnsFormatException("an SOA record is shorter than its fields", record.DataOffset);
                }

                break;
        }
    }
}
