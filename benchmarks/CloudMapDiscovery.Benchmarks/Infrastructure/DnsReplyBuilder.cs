using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>
/// Writes DNS replies shaped like Route 53's answers for a Cloud Map namespace, for the parsing benchmarks:
/// one question, answer records whose owner is a compression pointer to the question name, optional
/// additional records and an EDNS(0) OPT record. Deliberately small: only what the benchmarks need.
/// </summary>
internal sealed class DnsReplyBuilder
{
    private const ushort TypeA = 1;
    private const ushort TypeSrv = 33;
    private const ushort TypeOpt = 41;
    private const ushort ClassIn = 1;
    private const int QuestionNameOffset = 12;

    private readonly List<byte> _bytes = [];
    private ushort _answers;
    private ushort _additionals;

    public DnsReplyBuilder(ushort id, string question, ushort questionType)
    {
        WriteUInt16(id);
        WriteUInt16(0x8580);                      // QR, opcode 0, AA, RD, RA, NOERROR
        WriteUInt16(1);                           // QDCOUNT
        WriteUInt16(0);                           // ANCOUNT, patched in Build
        WriteUInt16(0);                           // NSCOUNT
        WriteUInt16(0);                           // ARCOUNT, patched in Build
        WriteName(question);
        WriteUInt16(questionType);
        WriteUInt16(ClassIn);
    }

    /// <summary>An A record owned by the question name.</summary>
    public DnsReplyBuilder AnswerA(IPAddress address, uint ttl)
    {
        WritePointer(QuestionNameOffset);
        WriteRecordHeader(TypeA, ClassIn, ttl, 4);
        _bytes.AddRange(address.GetAddressBytes());
        _answers++;
        return this;
    }

    /// <summary>An SRV record owned by the question name; returns the offset of the target name for the additional A record.</summary>
    public int AnswerSrv(ushort priority, ushort weight, ushort port, string targetFirstLabel, uint ttl)
    {
        WritePointer(QuestionNameOffset);
        var label = Encoding.ASCII.GetBytes(targetFirstLabel);
        WriteRecordHeader(TypeSrv, ClassIn, ttl, (ushort)(6 + 1 + label.Length + 2));
        WriteUInt16(priority);
        WriteUInt16(weight);
        WriteUInt16(port);
        var targetOffset = _bytes.Count;
        _bytes.Add((byte)label.Length);          // "<instance-id>" then a pointer to "name.internal"
        _bytes.AddRange(label);
        WritePointer(QuestionNameOffset);
        _answers++;
        return targetOffset;
    }

    /// <summary>An additional A record whose owner is a compression pointer (to an SRV target).</summary>
    public DnsReplyBuilder AdditionalA(int ownerOffset, IPAddress address, uint ttl)
    {
        WritePointer(ownerOffset);
        WriteRecordHeader(TypeA, ClassIn, ttl, 4);
        _bytes.AddRange(address.GetAddressBytes());
        _additionals++;
        return this;
    }

    /// <summary>The EDNS(0) OPT pseudo-record a server adds when the query carried one.</summary>
    public DnsReplyBuilder Opt(ushort payloadSize)
    {
        _bytes.Add(0);                           // root
        WriteRecordHeader(TypeOpt, payloadSize, 0, 0);
        _additionals++;
        return this;
    }

    public byte[] Build()
    {
        var message = _bytes.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), _answers);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), _additionals);
        return message;
    }

    private void WriteRecordHeader(ushort type, ushort cls, uint ttl, ushort length)
    {
        WriteUInt16(type);
        WriteUInt16(cls);
        WriteUInt16((ushort)(ttl >> 16));
        WriteUInt16((ushort)ttl);
        WriteUInt16(length);
    }

    private void WriteName(string name)
    {
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            _bytes.Add((byte)bytes.Length);
            _bytes.AddRange(bytes);
        }

        _bytes.Add(0);
    }

    private void WritePointer(int offset) => WriteUInt16((ushort)(0xC000 | offset));

    private void WriteUInt16(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
    }

    /// <summary>The reply to "name.internal A" with <paramref name="count"/> addresses 10.0.x.y.</summary>
    public static byte[] AddressReply(string name, int count, uint ttl = 0, bool opt = true)
    {
        var b = new DnsReplyBuilder(0x1234, name, TypeA);
        for (var i = 0; i < count; i++)
        {
            b.AnswerA(new IPAddress([10, 0, (byte)(i / 250), (byte)((i % 250) + 1)]), ttl);
        }

        if (opt)
        {
            b.Opt(1232);
        }

        return b.Build();
    }

    /// <summary>The reply to "name.internal SRV" the way Cloud Map answers it: <c>1 1 port task-id.name.internal</c> plus each target's A record.</summary>
    public static byte[] ServiceReply(string name, int count, ushort port, uint ttl = 10)
    {
        var b = new DnsReplyBuilder(0x1234, name, TypeSrv);
        var targets = new int[count];
        for (var i = 0; i < count; i++)
        {
            targets[i] = b.AnswerSrv(1, 1, port, $"{i:x8}0c4e4f1e9a1b2c3d4e5f6a7b8c9d", ttl);
        }

        for (var i = 0; i < count; i++)
        {
            b.AdditionalA(targets[i], new IPAddress([10, 0, 1, (byte)(i + 1)]), ttl);
        }

        b.Opt(1232);
        return b.Build();
    }
}
