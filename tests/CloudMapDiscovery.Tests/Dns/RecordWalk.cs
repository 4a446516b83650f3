using System.Buffers.Binary;
using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// A forward-only walk over every record of one DNS message, record by record, with the library's bounds-checked
/// primitives (<see cref="DnsMessageReader"/> for the header, the question and each record's fixed fields,
/// <see cref="DnsName"/> for names). The library itself reads replies in one pass (<c>DnsResponseParser</c>); this
/// simpler walk is the tests' reference: what it accepts, the parser must accept, and the captured replies are read
/// with it.
/// </summary>
internal ref struct RecordWalk
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly DnsMessageReader _reader;
    private int _position;
    private int _remainingInSection;
    private DnsSection _section;

    public RecordWalk(ReadOnlySpan<byte> message)
    {
        _message = message;
        _reader = new DnsMessageReader(message);
        _position = DnsHeader.Size;
        for (var i = 0; i < _reader.Header.QuestionCount; i++)
        {
            _position = DnsName.Skip(message, _position) + 4; // the reader checked that the questions fit
        }

        _section = DnsSection.Answer;
        _remainingInSection = _reader.Header.AnswerCount;
    }

    public readonly DnsHeader Header => _reader.Header;

    public readonly int QuestionNameOffset => _reader.QuestionNameOffset;

    public readonly DnsRecordType QuestionType => _reader.QuestionType;

    public readonly ushort QuestionClass => _reader.QuestionClass;

    public readonly bool QuestionMatches(string name, DnsRecordType type) => _reader.QuestionMatches(name, type);

    /// <summary>Reads the name at <paramref name="offset"/>, returning <paramref name="candidate"/> itself when equal so that the common case allocates nothing.</summary>
    public static string ReadOrReuse(ReadOnlySpan<byte> message, int offset, string candidate)
        => DnsName.EqualsName(message, offset, candidate) ? candidate : DnsName.Read(message, offset, out _);

    /// <summary>Reads the next record header in the answer, authority and additional sections, in that order.</summary>
    public bool TryReadNext(out DnsRecordHeader record)
    {
        while (_remainingInSection == 0)
        {
            switch (_section)
            {
                case DnsSection.Answer:
                    _section = DnsSection.Authority;
                    _remainingInSection = _reader.Header.AuthorityCount;
                    break;
                case DnsSection.Authority:
                    _section = DnsSection.Additional;
                    _remainingInSection = _reader.Header.AdditionalCount;
                    break;
                default:
                    record = default;
                    return false;
            }
        }

        var nameOffset = _position;
        record = DnsMessageReader.ReadRecord(_message, _section, nameOffset, DnsName.Skip(_message, _position), _remainingInSection);
        _position = record.DataOffset + record.DataLength;
        _remainingInSection--;
        return true;
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

    public readonly string ReadName(in DnsRecordHeader record, string reuseIfEqual) => ReadOrReuse(_message, record.NameOffset, reuseIfEqual);

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
