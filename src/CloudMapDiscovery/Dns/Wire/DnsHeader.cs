using System.Buffers.Binary;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>The fixed 12-byte header of a DNS message (RFC 1035 section 4.1.1).</summary>
internal readonly record struct DnsHeader(ushort Id, ushort Flags, ushort QuestionCount, ushort AnswerCount, ushort AuthorityCount, ushort AdditionalCount)
{
    public const int Size = 12;

    public bool IsResponse => (Flags & 0x8000) != 0;

    public int Opcode => (Flags >> 11) & 0xF;

    public bool IsAuthoritative => (Flags & 0x0400) != 0;

    public bool IsTruncated => (Flags & 0x0200) != 0;

    public DnsResponseCode ResponseCode => (DnsResponseCode)(Flags & 0xF);

    public static DnsHeader Read(ReadOnlySpan<byte> message) => message.Length < Size
        ? throw new DnsFormatException($"the message is {message.Length} bytes, shorter than a header", 0)
        : new DnsHeader(
            BinaryPrimitives.ReadUInt16BigEndian(message),
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[10..]));
}
