using System.Buffers.Binary;
using System.Text;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>
/// A byte-level DNS message writer with no rules of its own (no compression table, no checks), so that
/// <see cref="HostileReplies"/> can lay out exactly the pointers and records an attacker would.
/// </summary>
internal sealed class WireWriter
{
    public const ushort TypeA = 1;
    public const ushort TypeCname = 5;
    public const ushort TypeNull = 10;
    public const ushort TypeSrv = 33;

    private readonly List<byte> _bytes = new(65_535);
    private readonly int[] _counts = new int[3];

    /// <summary>Starts a reply (QR, AA, RD, RA, NOERROR) to one question.</summary>
    public WireWriter(IReadOnlyList<string> questionLabels, ushort questionType)
    {
        U16(0x1234).U16(0x8580).U16(1).U16(0).U16(0).U16(0);
        QuestionOffset = Position;
        Labels(questionLabels).U8(0);
        U16(questionType).U16(1);
    }

    public int QuestionOffset { get; }

    public int Position => _bytes.Count;

    public WireWriter U8(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public WireWriter U16(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
        return this;
    }

    public WireWriter Pointer(int offset) => U16((ushort)(0xC000 | offset));

    /// <summary>Writes labels without the terminating root byte (end them with <see cref="U8"/> 0 or a pointer).</summary>
    public WireWriter Labels(IEnumerable<string> labels)
    {
        foreach (var label in labels)
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            _bytes.Add((byte)bytes.Length);
            _bytes.AddRange(bytes);
        }

        return this;
    }

    /// <summary>
    /// Writes a record (section 0 answer, 2 additional) whose owner name is one pointer; <paramref name="data"/>
    /// writes the RDATA and returns nothing; the RDLENGTH is filled in afterwards.
    /// </summary>
    public WireWriter Record(int section, int ownerOffset, ushort type, Action<WireWriter> data, uint ttl = 60)
    {
        Pointer(ownerOffset).U16(type).U16(1).U16((ushort)(ttl >> 16)).U16((ushort)ttl);
        var lengthAt = Position;
        U16(0);
        data(this);
        var length = Position - lengthAt - 2;
        _bytes[lengthAt] = (byte)(length >> 8);
        _bytes[lengthAt + 1] = (byte)length;
        _counts[section]++;
        return this;
    }

    /// <summary>An A record 10.x.y.z whose owner is written out in full (no compression).</summary>
    public WireWriter AInFull(int section, IReadOnlyList<string> ownerLabels, int n)
    {
        Labels(ownerLabels).U8(0).U16(TypeA).U16(1).U16(0).U16(60).U16(4);
        U8(10).U8((byte)(n >> 16)).U8((byte)(n >> 8)).U8((byte)n);
        _counts[section]++;
        return this;
    }

    /// <summary>An A record 10.x.y.z whose owner is a pointer.</summary>
    public WireWriter A(int section, int ownerOffset, int n)
        => Record(section, ownerOffset, TypeA, w => w.U8(10).U8((byte)(n >> 16)).U8((byte)(n >> 8)).U8((byte)n));

    /// <summary>
    /// A NULL record (never read, only bounds-checked) whose data is a chain of <paramref name="hops"/> compression
    /// pointers, each to the one before, the first to <paramref name="target"/>. Returns the offset of the last
    /// pointer: a name there is <paramref name="hops"/> pointer hops away from the name at <paramref name="target"/>.
    /// </summary>
    public int PointerChain(int target, int hops)
    {
        var head = target;
        Record(0, QuestionOffset, TypeNull, w =>
        {
            var previous = target;
            for (var i = 0; i < hops; i++)
            {
                head = w.Position;
                w.Pointer(previous);
                previous = head;
            }
        });
        return head;
    }

    /// <summary>
    /// A NULL record holding names one after another, each ending in the root or, with <paramref name="suffix"/>,
    /// in a pointer to it; returns the offset of each. Pointers reach only the first 16 KB, so names that
    /// records point at go here, early in the message.
    /// </summary>
    public int[] NameBlock(IReadOnlyList<IReadOnlyList<string>> names, int? suffix = null)
    {
        var offsets = new int[names.Count];
        Record(0, QuestionOffset, TypeNull, w =>
        {
            for (var i = 0; i < names.Count; i++)
            {
                offsets[i] = w.Position;
                w.Labels(names[i]);
                _ = suffix is { } s ? w.Pointer(s) : w.U8(0);
            }
        });
        return offsets;
    }

    public byte[] ToArray()
    {
        if (_bytes.Count > ushort.MaxValue)
        {
            throw new InvalidOperationException($"the message is {_bytes.Count} bytes, more than TCP can carry");
        }

        var message = _bytes.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), (ushort)_counts[0]);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), (ushort)_counts[2]);
        return message;
    }
}
