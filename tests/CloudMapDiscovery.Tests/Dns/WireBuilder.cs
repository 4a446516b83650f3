using System.Buffers.Binary;
using System.Net;
using System.Text;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// Assembles DNS messages byte by byte for the codec tests, independently of the library's own writer.
/// Names are compressed RFC 1035 section 4.1.4 style (a suffix already written is replaced by a pointer
/// to it) unless a test asks otherwise. Header counts follow the records added, unless overridden to
/// build a lying message.
/// </summary>
internal sealed class WireBuilder
{
    private readonly List<byte> _bytes = new(512);
    private readonly Dictionary<string, int> _suffixes = new(StringComparer.Ordinal);
    private readonly int[] _counts = new int[4];
    private int[]? _countOverride;

    public WireBuilder(ushort id = 0x1234, ushort flags = 0x8180)
    {
        Id = id;
        Flags = flags;
        _bytes.AddRange(new byte[12]);
    }

    /// <summary>The NULL record type (RFC 1035): data nobody reads, a place to put bytes that pointers aim at.</summary>
    public const DnsRecordType NullType = (DnsRecordType)10;

    public ushort Id { get; set; }

    public ushort Flags { get; set; }

    public bool Compress { get; set; } = true;

    /// <summary>Gets the current length of the message: the offset the next byte will be written at.</summary>
    public int Position => _bytes.Count;

    /// <summary>A standard reply: QR, AA, RD, RA with the given RCODE.</summary>
    public static WireBuilder Reply(int rcode = 0, ushort id = 0x1234) => new(id, (ushort)(0x8580 | rcode));

    public WireBuilder Counts(int questions, int answers, int authorities, int additionals)
    {
        _countOverride = [questions, answers, authorities, additionals];
        return this;
    }

    public WireBuilder Question(string name, DnsRecordType type, ushort cls = 1)
    {
        Name(name);
        U16((ushort)type).U16(cls);
        _counts[0]++;
        return this;
    }

    /// <summary>Copies a question (name, type and class) exactly as a query carried it.</summary>
    public WireBuilder EchoQuestion(byte[] question)
    {
        _bytes.AddRange(question);
        _counts[0]++;
        return this;
    }

    /// <summary>Writes a name from raw label bytes (any bytes at all: dots, spaces, 0xFF), uncompressed.</summary>
    public WireBuilder WireName(params byte[][] labels)
    {
        foreach (var label in labels)
        {
            _bytes.Add((byte)label.Length);
            _bytes.AddRange(label);
        }

        _bytes.Add(0);
        return this;
    }

    public WireBuilder Name(string name)
    {
        var labels = name.Length == 0 ? [] : name.TrimEnd('.').Split('.');
        for (var i = 0; i < labels.Length; i++)
        {
            var suffix = string.Join('.', labels[i..]);
            if (Compress && _suffixes.TryGetValue(suffix, out var target))
            {
                return Pointer(target);
            }

            if (_bytes.Count < 0x3FFF)
            {
                _suffixes.TryAdd(suffix, _bytes.Count);
            }

            Label(labels[i]);
        }

        _bytes.Add(0);
        return this;
    }

    public WireBuilder Label(string label)
    {
        var b = Encoding.ASCII.GetBytes(label);
        _bytes.Add((byte)b.Length);
        _bytes.AddRange(b);
        return this;
    }

    public WireBuilder Pointer(int offset)
    {
        _bytes.Add((byte)(0xC0 | (offset >> 8)));
        _bytes.Add((byte)offset);
        return this;
    }

    public WireBuilder U8(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public WireBuilder U16(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
        return this;
    }

    public WireBuilder U32(uint value) => U16((ushort)(value >> 16)).U16((ushort)value);

    public WireBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>Adds a record to a section (0 answer, 1 authority, 2 additional); <paramref name="data"/> writes the RDATA, whose length is filled in afterwards unless <paramref name="rdLength"/> forces one.</summary>
    public WireBuilder Record(int section, string owner, DnsRecordType type, uint ttl, Action<WireBuilder> data, ushort cls = 1, int? rdLength = null)
        => RecordOwnedBy(b => b.Name(owner), section, type, ttl, data, cls, rdLength);

    /// <summary>Adds a record whose owner name is one compression pointer to <paramref name="ownerOffset"/>.</summary>
    public WireBuilder RecordAt(int section, int ownerOffset, DnsRecordType type, uint ttl, Action<WireBuilder> data)
        => RecordOwnedBy(b => b.Pointer(ownerOffset), section, type, ttl, data);

    /// <summary>Adds a record whose owner is written uncompressed from raw label bytes.</summary>
    public WireBuilder RecordWire(int section, byte[][] owner, DnsRecordType type, uint ttl, Action<WireBuilder> data)
        => RecordOwnedBy(b => b.WireName(owner), section, type, ttl, data);

    private WireBuilder RecordOwnedBy(Action<WireBuilder> owner, int section, DnsRecordType type, uint ttl, Action<WireBuilder> data, ushort cls = 1, int? rdLength = null)
    {
        owner(this);
        U16((ushort)type).U16(cls).U32(ttl);
        var lengthAt = _bytes.Count;
        U16(0);
        data(this);
        var length = rdLength ?? (_bytes.Count - lengthAt - 2);
        _bytes[lengthAt] = (byte)(length >> 8);
        _bytes[lengthAt + 1] = (byte)length;
        _counts[section + 1]++;
        return this;
    }

    /// <summary>
    /// Adds a NULL record (never read, only bounds-checked) holding <paramref name="hops"/> compression pointers, each to
    /// the one before, the first to <paramref name="target"/>; returns the offset of the last: a name there follows
    /// <paramref name="hops"/> pointers to reach the name at <paramref name="target"/>.
    /// </summary>
    public int PointerChain(int target, int hops)
    {
        var head = target;
        RecordAt(0, 12, NullType, 0, w =>
        {
            for (var i = 0; i < hops; i++)
            {
                var here = w.Position;
                w.Pointer(head);
                head = here;
            }
        });
        return head;
    }

    public WireBuilder A(string owner, string address, uint ttl = 60, int section = 0)
        => Record(section, owner, DnsRecordType.A, ttl, w => w.Raw(IPAddress.Parse(address).GetAddressBytes()));

    public WireBuilder Aaaa(string owner, string address, uint ttl = 60, int section = 0)
        => Record(section, owner, DnsRecordType.AAAA, ttl, w => w.Raw(IPAddress.Parse(address).GetAddressBytes()));

    public WireBuilder Cname(string owner, string target, uint ttl = 60)
        => Record(0, owner, DnsRecordType.CNAME, ttl, w => w.Name(target));

    public WireBuilder Srv(string owner, ushort priority, ushort weight, ushort port, string target, uint ttl = 10)
        => Record(0, owner, DnsRecordType.SRV, ttl, w => w.U16(priority).U16(weight).U16(port).Name(target));

    public WireBuilder Soa(string zone, uint ttl, uint minimum, int section = 1)
        => Record(section, zone, DnsRecordType.SOA, ttl, w => w.Name("ns1." + zone).Name("hostmaster." + zone).U32(1).U32(7200).U32(900).U32(1_209_600).U32(minimum));

    public WireBuilder Ns(string zone, string server, uint ttl = 900)
        => Record(1, zone, DnsRecordType.NS, ttl, w => w.Name(server));

    public WireBuilder Opt(ushort payloadSize = 1232)
        => Record(2, string.Empty, DnsRecordType.OPT, 0, _ => { }, cls: payloadSize);

    public byte[] ToArray()
    {
        var message = _bytes.ToArray();
        var counts = _countOverride ?? _counts;
        BinaryPrimitives.WriteUInt16BigEndian(message, Id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), Flags);
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4 + (2 * i)), (ushort)counts[i]);
        }

        return message;
    }

    /// <summary>Parses lower- or upper-case hex, ignoring white space.</summary>
    public static byte[] FromHex(string hex)
    {
        var compact = new StringBuilder(hex.Length);
        foreach (var c in hex)
        {
            if (!char.IsWhiteSpace(c))
            {
                compact.Append(c);
            }
        }

        return Convert.FromHexString(compact.ToString());
    }
}
