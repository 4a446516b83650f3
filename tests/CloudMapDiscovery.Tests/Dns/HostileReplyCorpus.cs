using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// Replies for <see cref="HostileReplyResolverTests"/>: for each query, one of the hostile shapes, an
/// ordinary answer, or a broken one, chosen by a stable hash of the case, the name, the type and the transport, so
/// that a case replays exactly, follow-up queries (CNAME and SRV targets, TCP retries) included. A few shapes are
/// ignored by the resolver (wrong ID, two questions, no reply) and cost a timeout; they are kept rare.
/// </summary>
internal static class HostileReplyCorpus
{
    private static readonly byte[] Internal = "internal"u8.ToArray();

    public static byte[]? Reply(HostileResponder.Query q, int seed)
    {
        var rng = new Random(StableHash(q, seed));
        var roll = rng.Next(100);
        return roll switch
        {
            < 12 => Ordinary(q, rng).ToArray(),
            < 20 => q.Reply().RecordAt(0, 12, DnsRecordType.CNAME, 60, c => c.WireName(OddName(rng))).ToArray(),
            < 25 => q.Reply().RecordAt(0, 12, DnsRecordType.CNAME, 60, c => c.WireName([.. "loop"u8, (byte)('0' + rng.Next(3))], Internal)).ToArray(),
            < 31 => Chain(q, 8_000),
            < 37 => Chain(q, 126),
            < 44 => ManyTargets(q, rng),
            < 50 => ManyRecords(q, 1_200),
            < 58 => Cut(q, Ordinary(q, rng).ToArray(), rng),
            < 62 => Flags(q.Reply(), 0x0200).ToArray(),
            < 70 => RandomTail(q, rng),
            < 78 => q.Reply(rcode: new[] { 1, 2, 3, 4, 5, 9, 11, 15 }[rng.Next(8)]).ToArray(),
            < 88 => Mutated(q, Ordinary(q, rng).ToArray(), rng),
            < 95 => OddChainInOneReply(q, rng),
            < 97 => WrongId(Ordinary(q, rng).ToArray()),
            < 98 => q.Reply().EchoQuestion(q.Question).ToArray(),
            _ => null,
        };
    }

    // An answer of the asked type: addresses, or SRV records with some targets' addresses; sometimes behind a CNAME.
    private static WireBuilder Ordinary(HostileResponder.Query q, Random rng)
    {
        var w = q.Reply();
        var owner = 12;
        if (rng.Next(4) == 0)
        {
            var alias = w.Position + 12;
            w.RecordAt(0, 12, DnsRecordType.CNAME, 30, c => c.WireName([.. "real"u8], Internal));
            owner = alias;
        }

        for (var i = rng.Next(1, 9); i > 0; i--)
        {
            var n = (byte)i;
            _ = q.Type switch
            {
                DnsRecordType.AAAA => w.RecordAt(0, owner, DnsRecordType.AAAA, 10, a => a.Raw([0xFD, .. new byte[14], n])),
                DnsRecordType.SRV => w.RecordAt(0, owner, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16((ushort)(3000 + n)).WireName([(byte)'t', (byte)('0' + n)], Internal)),
                _ => w.RecordAt(0, owner, DnsRecordType.A, 10, a => a.Raw(10, 0, 0, n)),
            };
        }

        if (q.Type == DnsRecordType.SRV && rng.Next(2) == 0)
        {
            w.RecordWire(2, [[(byte)'t', (byte)'1'], Internal], DnsRecordType.A, 10, a => a.Raw(10, 1, 0, 1));
        }

        return w;
    }

    private static byte[][] OddName(Random rng) => rng.Next(6) switch
    {
        0 => [[.. Enumerable.Repeat((byte)0xFF, 63)], Internal],
        1 => [[.. "a.b"u8], Internal],
        2 => [[.. "with space"u8], [.. "and\\backslash"u8], Internal],
        3 => [[0, 1, 2, 0x7F, 0x80], Internal],
        4 => [[.. Enumerable.Range(0, 63).Select(_ => (byte)rng.Next(256))], [.. Enumerable.Range(0, 63).Select(_ => (byte)rng.Next(256))], Internal],
        _ => [[.. "UPPER"u8], Internal],
    };

    // Records of the asked type whose owner (and SRV target) is `hops` pointers away from the question.
    private static byte[] Chain(HostileResponder.Query q, int hops)
    {
        var w = q.Reply();
        var head = w.PointerChain(12, hops);
        for (var i = 0; i < 20; i++)
        {
            var n = (byte)i;
            _ = q.Type switch
            {
                DnsRecordType.AAAA => w.RecordAt(0, head, DnsRecordType.AAAA, 10, a => a.Raw([0xFD, .. new byte[14], n])),
                DnsRecordType.SRV => w.RecordAt(0, head, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16((ushort)(4000 + n)).Pointer(head)),
                _ => w.RecordAt(0, head, DnsRecordType.A, 10, a => a.Raw(10, 2, 0, n)),
            };
        }

        return w.ToArray();
    }

    // More distinct SRV targets without addresses than are looked up; some need escapes.
    private static byte[] ManyTargets(HostileResponder.Query q, Random rng)
    {
        var w = q.Reply();
        for (var i = 0; i < 80; i++)
        {
            var target = rng.Next(8) == 0 ? OddName(rng) : [[(byte)'s', (byte)('a' + (i / 26)), (byte)('a' + (i % 26))], Internal];
            w.RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(5000).WireName(target));
        }

        return w.ToArray();
    }

    private static byte[] ManyRecords(HostileResponder.Query q, int count)
    {
        var w = q.Reply();
        for (var i = 0; i < count; i++)
        {
            var n = (byte)i;
            _ = q.Type switch
            {
                DnsRecordType.AAAA => w.RecordAt(0, 12, DnsRecordType.AAAA, 10, a => a.Raw([0xFD, .. new byte[13], (byte)(i >> 8), n])),
                DnsRecordType.SRV => w.RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16((ushort)(1 + i)).Pointer(12)),
                _ => w.RecordAt(0, 12, DnsRecordType.A, 10, a => a.Raw(10, 3, (byte)(i >> 8), n)),
            };
        }

        return w.ToArray();
    }

    // A CNAME to a name text must escape, and from there to another, and its address: all in one reply.
    private static byte[] OddChainInOneReply(HostileResponder.Query q, Random rng)
    {
        var first = OddName(rng);
        byte[][] second = [[.. "x.y"u8], [.. "z z"u8], Internal];
        return q.Reply()
            .RecordAt(0, 12, DnsRecordType.CNAME, 60, c => c.WireName(first))
            .RecordWire(0, first, DnsRecordType.CNAME, 60, c => c.WireName(second))
            .RecordWire(0, second, q.Type == DnsRecordType.AAAA ? DnsRecordType.AAAA : DnsRecordType.A, 60, a => a.Raw(q.Type == DnsRecordType.AAAA ? new byte[16] : [10, 4, 0, 1]))
            .ToArray();
    }

    // A reply cut short after its question, with no TC bit.
    private static byte[] Cut(HostileResponder.Query q, byte[] reply, Random rng)
    {
        var questionEnd = 12 + q.Question.Length;
        return reply.Length <= questionEnd + 1 ? reply : reply[..rng.Next(questionEnd, reply.Length - 1)];
    }

    private static byte[] RandomTail(HostileResponder.Query q, Random rng)
    {
        var tail = new byte[rng.Next(0, 300)];
        rng.NextBytes(tail);
        return q.Reply().Counts(1, rng.Next(6), rng.Next(3), rng.Next(3)).Raw(tail).ToArray();
    }

    private static byte[] Mutated(HostileResponder.Query q, byte[] reply, Random rng)
    {
        var questionEnd = 12 + q.Question.Length;
        for (var i = rng.Next(1, 5); i > 0 && reply.Length > questionEnd; i--)
        {
            reply[rng.Next(questionEnd, reply.Length)] ^= (byte)(1 << rng.Next(8));
        }

        return reply;
    }

    private static WireBuilder Flags(WireBuilder w, ushort add)
    {
        w.Flags |= add;
        return w;
    }

    private static byte[] WrongId(byte[] reply)
    {
        reply[0] ^= 0x5A;
        return reply;
    }

    // FNV-1a: stable across runs, unlike string.GetHashCode and HashCode.
    private static int StableHash(HostileResponder.Query q, int seed)
    {
        var hash = 2166136261u;
        void Add(int b) => hash = (hash ^ (uint)b) * 16777619u;
        Add(seed);
        Add(seed >> 8);
        Add((int)q.Type);
        Add(q.Tcp ? 1 : 0);
        foreach (var label in q.Labels)
        {
            Add(label.Length);
            foreach (var b in label)
            {
                Add(b is >= (byte)'A' and <= (byte)'Z' ? b | 0x20 : b);
            }
        }

        return (int)hash;
    }
}
