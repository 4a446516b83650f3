using System.Buffers.Binary;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>The fixed 12-byte header of a DNS message (RFC 1035 section 4.1.1).</summary>
internal readonly struct DnsHeader
{
    public const int Size = 12;

    private readonly ushort _flags;

    private DnsHeader(ushort id, ushort flags, ushort questions, ushort answers, ushort authorities, ushort additionals)
    {
        Id = id;
        _flags = flags;
        QuestionCount = questions;
        AnswerCount = answers;
        AuthorityCount = authorities;
        AdditionalCount = additionals;
    }

    public ushort Id { get; }

    public bool IsResponse => (_flags & 0x8000) != 0;

    public int Opcode => (_flags >> 11) & 0xF;

    public bool IsAuthoritative => (_flags & 0x0400) != 0;

    public bool IsTruncated => (_flags & 0x0200) != 0;

    public DnsResponseCode ResponseCode => (DnsResponseCode)(_flags & 0xF);

    public ushort QuestionCount { get; }

    public ushort AnswerCount { get; }

    public ushort AuthorityCount { get; }

    public ushort AdditionalCount { get; }

    public static DnsHeader Read(ReadOnlySpan<byte> message)
    {
        if (message.Length < Size)
        {
            throw new DnsFormatException($"the message is {message.Length} bytes, shorter than a header", 0);
        }

        return new DnsHeader(
            BinaryPrimitives.ReadUInt16BigEndian(message),
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[10..]));
    }
}
