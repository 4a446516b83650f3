namespace CloudMapDiscovery.Dns.Wire;

/// <summary>The ids of <see cref="NameTable"/>: interning a (label, rest) pair, and finding a name given as text.</summary>
internal ref partial struct NameTable
{
    /// <summary>The id of canonical text <paramref name="name"/> if the message holds that name, else <see cref="None"/>.</summary>
    public readonly int Find(string name)
    {
        Span<byte> wire = stackalloc byte[DnsName.MaxLength];
        if (!DnsName.TryEncode(name, wire))
        {
            return None;
        }

        // The walk's scratch is free between walks, and holds more labels than a name can have.
        var starts = _passed;
        var labels = 0;
        for (var at = 0; wire[at] != 0; at += wire[at] + 1)
        {
            if (labels == starts.Length)
            {
                return None;
            }

            starts[labels++] = at;
        }

        var id = Root;
        for (var i = labels - 1; i >= 0 && id != None; i--)
        {
            id = Lookup(wire.Slice(starts[i] + 1, wire[starts[i]]), id);
        }

        return id;
    }

    private int Intern(int labelAt, int rest)
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

    private readonly int Lookup(ReadOnlySpan<byte> label, int rest)
    {
        for (var e = _buckets[Bucket(label, rest)] - 1; e >= 0; e = _next[e] - 1)
        {
            if (_rest[e] == rest && LabelEquals(Label(_labelAt[e]), label))
            {
                return e;
            }
        }

        return None;
    }

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
