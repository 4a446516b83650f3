namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// The id table behind <see cref="NameTable"/>: a name is (its first label, the id of the rest), interned in a hash
/// table seeded per process (<see cref="HashCode"/>), so that a server cannot make its entries collide. Labels compare
/// ASCII case-insensitively. The storage is a slice of the table's span, <see cref="Size"/> ints long.
/// </summary>
internal ref struct NameIds
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly Span<int> _buckets;    // per bucket: 1 + first id in it
    private readonly Span<int> _labelAt;    // per id: offset of its first label's length byte
    private readonly Span<int> _rest;       // per id: id of the name after its first label
    private readonly Span<int> _wire;       // per id: wire length, root byte included
    private readonly Span<int> _next;       // per id: 1 + next id in the same bucket
    private int _count;

    public NameIds(ReadOnlySpan<byte> message, Span<int> storage, int ids)
    {
        _message = message;
        var at = 0;
        _buckets = storage.Slice(at, Buckets(ids));
        _labelAt = storage.Slice(at += _buckets.Length, ids);
        _rest = storage.Slice(at += ids, ids);
        _wire = storage.Slice(at += ids, ids);
        _next = storage.Slice(at + ids, ids);
        _buckets.Clear();
        _labelAt[NameTable.Root] = -1;
        _rest[NameTable.Root] = NameTable.None;
        _wire[NameTable.Root] = 1;
        _count = 1;
    }

    /// <summary>The ints a table of <paramref name="ids"/> ids needs.</summary>
    public static int Size(int ids) => Buckets(ids) + (4 * ids);

    /// <summary>The wire length of name <paramref name="id"/>, its root byte included.</summary>
    public readonly int WireLength(int id) => _wire[id];

    /// <summary>The id of the name whose first label sits at <paramref name="labelAt"/> and whose rest is <paramref name="rest"/>, made if new.</summary>
    public int Intern(int labelAt, int rest)
    {
        var label = Label(labelAt);
        var bucket = Bucket(label, rest);
        for (var e = _buckets[bucket] - 1; e >= 0; e = _next[e] - 1)
        {
            if (_rest[e] == rest && LabelEquals(Label(_labelAt[e]), label))
            {
                return e;
            }
        }

        if (_count == _labelAt.Length)
        {
            throw new DnsFormatException("the message holds more names than its size allows"); // cannot happen: one id per label position
        }

        var id = _count++;
        (_labelAt[id], _rest[id], _wire[id]) = (labelAt, rest, label.Length + 1 + _wire[rest]);
        _next[id] = _buckets[bucket];
        _buckets[bucket] = id + 1;
        return id;
    }

    /// <summary>The id of (<paramref name="label"/>, <paramref name="rest"/>) if the message holds that name, else <see cref="NameTable.None"/>.</summary>
    public readonly int Lookup(ReadOnlySpan<byte> label, int rest)
    {
        for (var e = _buckets[Bucket(label, rest)] - 1; e >= 0; e = _next[e] - 1)
        {
            if (_rest[e] == rest && LabelEquals(Label(_labelAt[e]), label))
            {
                return e;
            }
        }

        return NameTable.None;
    }

    private static int Buckets(int ids) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(ids, 16));

    private readonly ReadOnlySpan<byte> Label(int at) => _message.Slice(at + 1, _message[at]);

    private readonly int Bucket(ReadOnlySpan<byte> label, int rest)
    {
        Span<byte> lower = stackalloc byte[DnsName.MaxLabelLength];
        for (var i = 0; i < label.Length; i++)
        {
            lower[i] = DnsName.ToLowerAscii(label[i]);
        }

        var hash = default(HashCode);
        hash.Add(rest);
        hash.AddBytes(lower[..label.Length]);
        return hash.ToHashCode() & (_buckets.Length - 1);
    }

    private static bool LabelEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (DnsName.ToLowerAscii(a[i]) != DnsName.ToLowerAscii(b[i]))
            {
                return false;
            }
        }

        return true;
    }
}
