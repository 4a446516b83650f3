using System.Globalization;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>One hostile reply and the question it answers (it matches ID and question, so it reaches the parser).</summary>
internal sealed record HostileReply(byte[] Message, string Name, ushort Type, int MaxCnameChain);

/// <summary>
/// The worst replies a server (or anyone who can answer the query) can send, each up to 64 KB, the most TCP
/// carries. Pointers reach only the first 16 KB of a message, so the names the records point at are laid out
/// there and every record after it is a 2-byte pointer plus its fixed fields: as many records as 64 KB holds,
/// each owner name as expensive to walk as the format (or, for the issue's replies, the old parser) allows.
/// </summary>
internal static class HostileReplies
{
    private const int MaxMessage = ushort.MaxValue;
    private const int AddressRecordSize = 16; // pointer owner + 10 fixed bytes + 4 address bytes
    private const int ServiceRecordSize = 20; // pointer owner + 10 + priority, weight, port + pointer target
    private const int CnameRecordSize = 14;   // pointer owner + 10 + pointer target

    /// <summary>The pointer hops a name may take once the chain is as long as the most labels a name can have (127).</summary>
    public const int HopsAtLimit = 127;

    /// <summary>Issue 12's A variant: every owner name is 8,000 backward pointers away from "name.internal"; 64 KB of A records.</summary>
    public static HostileReply IssueChain8000A()
    {
        var w = new WireWriter(["name", "internal"], WireWriter.TypeA);
        var head = w.PointerChain(w.QuestionOffset, 8_000);
        FillWithAddresses(w, 0, head, reserve: 0);
        return new(w.ToArray(), "name.internal", WireWriter.TypeA, 8);
    }

    /// <summary>
    /// Issue 12's measured reply (38 KB): 600 SRV and 600 A records whose names are all "name.internal" behind an
    /// 8,000-pointer chain, so that every SRV record names the same target, which has 600 addresses.
    /// </summary>
    public static HostileReply IssueReply600Srv()
    {
        var w = new WireWriter(["name", "internal"], WireWriter.TypeSrv);
        var head = w.PointerChain(w.QuestionOffset, 8_000);
        for (var i = 0; i < 600; i++)
        {
            var port = (ushort)(1000 + i);
            w.Record(0, head, WireWriter.TypeSrv, r => r.U16(1).U16(1).U16(port).Pointer(head));
        }

        for (var i = 0; i < 600; i++)
        {
            w.A(2, head, i);
        }

        return new(w.ToArray(), "name.internal", WireWriter.TypeSrv, 8);
    }

    /// <summary>
    /// A records for the longest name there is (127 one-letter labels, 255 bytes), each owner 127 pointer hops
    /// away from it: the most a name may cost to walk, times as many A records as fit.
    /// </summary>
    public static HostileReply ChainAtLimitA()
    {
        var labels = Repeat("a", 127);
        var w = new WireWriter(labels, WireWriter.TypeA);
        var head = w.PointerChain(w.QuestionOffset, HopsAtLimit - 1);
        FillWithAddresses(w, 0, head, reserve: 0);
        return new(w.ToArray(), string.Join('.', labels), WireWriter.TypeA, 8);
    }

    /// <summary>As many A records for "name.internal" as 64 KB holds (4,094), plain pointers: the record count at its maximum.</summary>
    public static HostileReply MaxCountA()
    {
        var w = new WireWriter(["name", "internal"], WireWriter.TypeA);
        FillWithAddresses(w, 0, w.QuestionOffset, reserve: 0);
        return new(w.ToArray(), "name.internal", WireWriter.TypeA, 8);
    }

    /// <summary>
    /// SRV records with distinct targets, each target with its A record in the additional section: the old
    /// parser scanned the message once per SRV record. Names are 125 labels behind a 125-pointer chain, and
    /// each target adds a label and a pointer: 127 hops for the additional records' owners.
    /// </summary>
    public static HostileReply SrvDistinctTargets()
    {
        var labels = Repeat("a", 125);
        var w = new WireWriter(labels, WireWriter.TypeSrv);
        var head = w.PointerChain(w.QuestionOffset, HopsAtLimit - 2);
        var pairs = (MaxMessage - w.Position - 12) / (6 + ServiceRecordSize + AddressRecordSize);
        var targets = w.NameBlock([.. Enumerable.Range(0, pairs).Select(i => (IReadOnlyList<string>)[Base36(i)])], suffix: head);
        for (var i = 0; i < pairs; i++)
        {
            var target = targets[i];
            w.Record(0, head, WireWriter.TypeSrv, r => r.U16(1).U16(1).U16(3000).Pointer(target));
        }

        for (var i = 0; i < pairs; i++)
        {
            w.A(2, targets[i], i);
        }

        return new(w.ToArray(), string.Join('.', labels), WireWriter.TypeSrv, 8);
    }

    /// <summary>
    /// SRV records that all name one target (on distinct ports) with as many A records for it: attached per
    /// record, the addresses multiply (1,800 x 1,800). Names as in <see cref="ChainAtLimitA"/>.
    /// </summary>
    public static HostileReply SrvSharedTarget()
    {
        var labels = Repeat("a", 127);
        var w = new WireWriter(labels, WireWriter.TypeSrv);
        var head = w.PointerChain(w.QuestionOffset, HopsAtLimit - 1);
        var pairs = (MaxMessage - w.Position) / (ServiceRecordSize + AddressRecordSize);
        for (var i = 0; i < pairs; i++)
        {
            var port = (ushort)(1 + i);
            w.Record(0, head, WireWriter.TypeSrv, r => r.U16(1).U16(1).U16(port).Pointer(head));
        }

        for (var i = 0; i < pairs; i++)
        {
            w.A(2, head, i);
        }

        return new(w.ToArray(), string.Join('.', labels), WireWriter.TypeSrv, 8);
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
        var w = new WireWriter(Link(0), WireWriter.TypeA);
        var names = w.NameBlock([.. Enumerable.Range(1, Links).Select(Link), [.. prefix, "zzz"]]);
        var decoy = names[^1];
        FillWithAddresses(w, 0, decoy, reserve: (Links * CnameRecordSize) + AddressRecordSize);
        for (var i = Links - 1; i >= 0; i--)
        {
            var target = names[i];
            w.Record(0, i == 0 ? w.QuestionOffset : names[i - 1], WireWriter.TypeCname, r => r.Pointer(target));
        }

        w.A(0, names[Links - 1], 1);
        return new(w.ToArray(), string.Join('.', Link(0)), WireWriter.TypeA, Links);
    }

    /// <summary>
    /// Every owner written out in full, 125 one-letter labels and no compression: the most label positions 64 KB
    /// can hold (about 32,000), each walked and interned once. The work a reply can force per byte, at its maximum.
    /// </summary>
    public static HostileReply InPlaceNames()
    {
        var labels = Repeat("a", 125);
        var w = new WireWriter(labels, WireWriter.TypeA);
        for (var n = 0; w.Position + 251 + 14 <= MaxMessage; n++)
        {
            w.AInFull(0, labels, n);
        }

        return new(w.ToArray(), string.Join('.', labels), WireWriter.TypeA, 8);
    }

    private static void FillWithAddresses(WireWriter w, int section, int owner, int reserve)
    {
        for (var n = 0; w.Position + AddressRecordSize + reserve <= MaxMessage; n++)
        {
            w.A(section, owner, n);
        }
    }

    private static string[] Repeat(string label, int count) => [.. Enumerable.Repeat(label, count)];

    private static string Base36(int i)
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        return new string([Digits[i / 1296 % 36], Digits[i / 36 % 36], Digits[i % 36]]);
    }
}
