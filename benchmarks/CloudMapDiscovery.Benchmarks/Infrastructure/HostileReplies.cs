using System.Globalization;
using System.Text;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Tests.Dns;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>One hostile reply and the question it answers (it matches ID and question, so it reaches the parser).</summary>
internal sealed record HostileReply(byte[] Message, string Name, DnsRecordType Type, int MaxCnameChain);

/// <summary>
/// The worst replies a server (or anyone who can answer the query) can send, each up to 64 KB, the most TCP
/// carries. Pointers reach only the first 16 KB of a message, so the names the records point at are laid out
/// there and every record after it is a 2-byte pointer plus its fixed fields: as many records as 64 KB holds,
/// each owner name as expensive to walk as the format (or, for the issue's replies, the old parser) allows.
/// </summary>
/// <remarks>
/// Written with the tests' <see cref="WireBuilder"/>: every owner is a pointer (<see cref="WireBuilder.RecordAt"/>) and
/// every name it points at is laid out by hand, so the layout is exactly the one described.
/// </remarks>
internal static class HostileReplies
{
    private const int QuestionOffset = 12;
    private const int MaxMessage = ushort.MaxValue;
    private const int AddressRecordSize = 16; // pointer owner + 10 fixed bytes + 4 address bytes
    private const int ServiceRecordSize = 20; // pointer owner + 10 + priority, weight, port + pointer target
    private const int CnameRecordSize = 14;   // pointer owner + 10 + pointer target
    private const uint Ttl = 60;

    /// <summary>The pointer hops a name may take once the chain is as long as the most labels a name can have (127).</summary>
    public const int HopsAtLimit = 127;

    /// <summary>The measured hostile reply's A variant: every owner name is 8,000 backward pointers away from "name.internal"; 64 KB of A records.</summary>
    public static HostileReply IssueChain8000A()
    {
        var w = Start(["name", "internal"], DnsRecordType.A);
        var head = w.PointerChain(QuestionOffset, 8_000);
        FillWithAddresses(w, 0, head, reserve: 0);
        return Finish(w, "name.internal", DnsRecordType.A, 8);
    }

    /// <summary>
    /// The measured hostile reply (38 KB): 600 SRV and 600 A records whose names are all "name.internal" behind an
    /// 8,000-pointer chain, so that every SRV record names the same target, which has 600 addresses.
    /// </summary>
    public static HostileReply IssueReply600Srv()
    {
        var w = Start(["name", "internal"], DnsRecordType.SRV);
        var head = w.PointerChain(QuestionOffset, 8_000);
        for (var i = 0; i < 600; i++)
        {
            var port = (ushort)(1000 + i);
            w.RecordAt(0, head, DnsRecordType.SRV, Ttl, r => r.U16(1).U16(1).U16(port).Pointer(head));
        }

        for (var i = 0; i < 600; i++)
        {
            A(w, 2, head, i);
        }

        return Finish(w, "name.internal", DnsRecordType.SRV, 8);
    }

    /// <summary>
    /// A records for the longest name there is (127 one-letter labels, 255 bytes), each owner 127 pointer hops
    /// away from it: the most a name may cost to walk, times as many A records as fit.
    /// </summary>
    public static HostileReply ChainAtLimitA()
    {
        var labels = Repeat("a", 127);
        var w = Start(labels, DnsRecordType.A);
        var head = w.PointerChain(QuestionOffset, HopsAtLimit - 1);
        FillWithAddresses(w, 0, head, reserve: 0);
        return Finish(w, string.Join('.', labels), DnsRecordType.A, 8);
    }

    /// <summary>As many A records for "name.internal" as 64 KB holds (4,094), plain pointers: the record count at its maximum.</summary>
    public static HostileReply MaxCountA()
    {
        var w = Start(["name", "internal"], DnsRecordType.A);
        FillWithAddresses(w, 0, QuestionOffset, reserve: 0);
        return Finish(w, "name.internal", DnsRecordType.A, 8);
    }

    /// <summary>
    /// SRV records with distinct targets, each target with its A record in the additional section: the old
    /// parser scanned the message once per SRV record. Names are 125 labels behind a 125-pointer chain, and
    /// each target adds a label and a pointer: 127 hops for the additional records' owners.
    /// </summary>
    public static HostileReply SrvDistinctTargets()
    {
        var labels = Repeat("a", 125);
        var w = Start(labels, DnsRecordType.SRV);
        var head = w.PointerChain(QuestionOffset, HopsAtLimit - 2);
        var pairs = (MaxMessage - w.Position - 12) / (6 + ServiceRecordSize + AddressRecordSize);
        var targets = NameBlock(w, [.. Enumerable.Range(0, pairs).Select(i => (IReadOnlyList<string>)[Base36(i)])], suffix: head);
        for (var i = 0; i < pairs; i++)
        {
            var target = targets[i];
            w.RecordAt(0, head, DnsRecordType.SRV, Ttl, r => r.U16(1).U16(1).U16(3000).Pointer(target));
        }

        for (var i = 0; i < pairs; i++)
        {
            A(w, 2, targets[i], i);
        }

        return Finish(w, string.Join('.', labels), DnsRecordType.SRV, 8);
    }

    /// <summary>
    /// SRV records that all name one target (on distinct ports) with as many A records for it: attached per
    /// record, the addresses multiply (1,800 x 1,800). Names as in <see cref="ChainAtLimitA"/>.
    /// </summary>
    public static HostileReply SrvSharedTarget()
    {
        var labels = Repeat("a", 127);
        var w = Start(labels, DnsRecordType.SRV);
        var head = w.PointerChain(QuestionOffset, HopsAtLimit - 1);
        var pairs = (MaxMessage - w.Position) / (ServiceRecordSize + AddressRecordSize);
        for (var i = 0; i < pairs; i++)
        {
            var port = (ushort)(1 + i);
            w.RecordAt(0, head, DnsRecordType.SRV, Ttl, r => r.U16(1).U16(1).U16(port).Pointer(head));
        }

        for (var i = 0; i < pairs; i++)
        {
            A(w, 2, head, i);
        }

        return Finish(w, string.Join('.', labels), DnsRecordType.SRV, 8);
    }

    /// <summary>
    /// A 32-link CNAME chain (the most MaxCnameChain allows) hidden behind thousands of decoy A records whose
    /// owner differs from every link only in its last label, so that each comparison walks the whole name.
    /// The links come last and in reverse order; the chain ends in one A record.
    /// </summary>
    public static HostileReply CnameMaze()
    {
        const int Links = 32;
        var prefix = Repeat("a", 124);
        IReadOnlyList<string> Link(int i) => [.. prefix, "c" + i.ToString("00", CultureInfo.InvariantCulture)];
        var w = Start(Link(0), DnsRecordType.A);
        var names = NameBlock(w, [.. Enumerable.Range(1, Links).Select(Link), [.. prefix, "zzz"]]);
        var decoy = names[^1];
        FillWithAddresses(w, 0, decoy, reserve: (Links * CnameRecordSize) + AddressRecordSize);
        for (var i = Links - 1; i >= 0; i--)
        {
            var target = names[i];
            w.RecordAt(0, i == 0 ? QuestionOffset : names[i - 1], DnsRecordType.CNAME, Ttl, r => r.Pointer(target));
        }

        A(w, 0, names[Links - 1], 1);
        return Finish(w, string.Join('.', Link(0)), DnsRecordType.A, Links);
    }

    /// <summary>
    /// Every owner written out in full, 125 one-letter labels and no compression: the most label positions 64 KB
    /// can hold (about 32,000), each walked and interned once. The work a reply can force per byte, at its maximum.
    /// </summary>
    public static HostileReply InPlaceNames()
    {
        var labels = Repeat("a", 125);
        var w = Start(labels, DnsRecordType.A);
        var owner = labels.Select(Encoding.ASCII.GetBytes).ToArray();
        for (var n = 0; w.Position + 251 + 14 <= MaxMessage; n++)
        {
            w.RecordWire(0, owner, DnsRecordType.A, Ttl, r => Address(r, n));
        }

        return Finish(w, string.Join('.', labels), DnsRecordType.A, 8);
    }

    private static void FillWithAddresses(WireBuilder w, int section, int owner, int reserve)
    {
        for (var n = 0; w.Position + AddressRecordSize + reserve <= MaxMessage; n++)
        {
            A(w, section, owner, n);
        }
    }

    // A reply (QR, AA, RD, RA, NOERROR) to one question, written out in full at offset 12.
    private static WireBuilder Start(IReadOnlyList<string> labels, DnsRecordType type) =>
        WireBuilder.Reply().Question(string.Join('.', labels), type);

    private static HostileReply Finish(WireBuilder w, string name, DnsRecordType type, int maxCnameChain)
    {
        if (w.Position > MaxMessage)
        {
            throw new InvalidOperationException($"the message is {w.Position} bytes, more than TCP can carry");
        }

        return new(w.ToArray(), name, type, maxCnameChain);
    }

    // An A record 10.x.y.z whose owner is a pointer.
    private static void A(WireBuilder w, int section, int owner, int n) => w.RecordAt(section, owner, DnsRecordType.A, Ttl, r => Address(r, n));

    private static void Address(WireBuilder r, int n) => r.U8(10).U8((byte)(n >> 16)).U8((byte)(n >> 8)).U8((byte)n);

    /// <summary>
    /// A NULL record holding names one after another, each ending in the root or, with <paramref name="suffix"/>,
    /// in a pointer to it; returns the offset of each. Pointers reach only the first 16 KB, so names that
    /// records point at go here, early in the message.
    /// </summary>
    private static int[] NameBlock(WireBuilder w, IReadOnlyList<IReadOnlyList<string>> names, int? suffix = null)
    {
        var offsets = new int[names.Count];
        w.RecordAt(0, QuestionOffset, WireBuilder.NullType, Ttl, r =>
        {
            for (var i = 0; i < names.Count; i++)
            {
                offsets[i] = r.Position;
                foreach (var label in names[i])
                {
                    r.Label(label);
                }

                _ = suffix is { } s ? r.Pointer(s) : r.U8(0);
            }
        });
        return offsets;
    }

    private static string[] Repeat(string label, int count) => [.. Enumerable.Repeat(label, count)];

    private static string Base36(int i)
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        return new string([Digits[i / 1296 % 36], Digits[i / 36 % 36], Digits[i % 36]]);
    }
}
