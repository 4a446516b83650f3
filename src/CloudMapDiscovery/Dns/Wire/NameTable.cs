using System.Runtime.InteropServices;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// Every name of one message, each decoded once: a name gets an id that equal names share (ASCII
/// case-insensitive), so comparing two names is comparing two integers. Each label or pointer position is walked
/// at most once (positions a pointer can reach, the first 16 KB, remember their name), so resolving every name of
/// a reply costs time linear in its size, however its pointers are chained.
/// </summary>
/// <remarks>
/// A name is accepted exactly when <see cref="DnsName.Skip"/> accepts it: pointers strictly backwards (before
/// every place the walk has been), at most <see cref="DnsName.MaxPointerHops"/> of them, at most 255 bytes.
/// Ids are interned as (first label, id of the rest) in a hash table seeded per process, so that a server cannot
/// make its entries collide. The storage is one span of ints from the caller (stack or pool), <see cref="Size"/> long.
/// </remarks>
internal ref struct NameTable
{
    /// <summary>The id of the root name.</summary>
    public const int Root = 0;

    /// <summary>Returned by <see cref="Find"/> for a name the message does not hold.</summary>
    public const int None = -1;

    private const int PointerReach = 0x4000;
    private const int NoTarget = int.MaxValue;

    // The longest walk down: 127 labels (each takes 2 of the 255 bytes) and 127 pointers, whatever the message size
    // (a walk that is about to be rejected can pass a position twice).
    private const int MaxPassed = (2 * DnsName.MaxPointerHops) + 2;

    // Room for the longest text form, two chars to an int.
    private const int TextInts = (DnsName.MaxTextLength / 2) + 1;

    private readonly ReadOnlySpan<byte> _message;
    private readonly int _memoLimit;
    private readonly Span<int> _memoId;     // per position: 1 + id of the name starting there, 0 = not walked yet
    private readonly Span<int> _memoHops;   // per position: pointers that name follows
    private readonly Span<int> _memoFirst;  // per position: where its first pointer leads (NoTarget without one)
    private readonly Span<int> _passed;     // the walk down: label positions, and pointer positions as -1 - position
    private readonly Span<int> _hopsBefore; // the walk down: pointers followed before each position
    private readonly Span<char> _text;      // where Text formats a name
    private NameIds _ids;

    public NameTable(ReadOnlySpan<byte> message, Span<int> storage)
    {
        _message = message;
        _memoLimit = Math.Min(message.Length, PointerReach);
        var ids = MaxIds(message.Length);
        var at = 0;
        _memoId = storage.Slice(at, _memoLimit);
        _memoHops = storage.Slice(at += _memoLimit, _memoLimit);
        _memoFirst = storage.Slice(at += _memoLimit, _memoLimit);
        _ids = new NameIds(message, storage.Slice(at += _memoLimit, NameIds.Size(ids)), ids);
        _passed = storage.Slice(at += NameIds.Size(ids), MaxPassed);
        _hopsBefore = storage.Slice(at += _passed.Length, _passed.Length);
        _text = MemoryMarshal.Cast<int, char>(storage.Slice(at + _passed.Length, TextInts));
        _memoId.Clear();
    }

    /// <summary>The most ids a message can produce: one per label position (a label takes at least two bytes), and the root.</summary>
    public static int MaxIds(int messageLength) => (messageLength / 2) + 2;

    /// <summary>The ints a table for a message of <paramref name="messageLength"/> bytes needs.</summary>
    public static int Size(int messageLength)
    {
        var ids = MaxIds(messageLength);
        return (3 * Math.Min(messageLength, PointerReach)) + NameIds.Size(ids) + (2 * MaxPassed) + TextInts;
    }

    /// <summary>Resolves the name at <paramref name="offset"/> to its id, validating it; <paramref name="end"/> is the offset just past it.</summary>
    public int Resolve(int offset, out int end)
    {
        // The walk down to a name already known (or the root), recording each label and pointer position passed.
        var passed = _passed;
        var hopsBefore = _hopsBefore;
        var count = 0;
        var pos = offset;
        var lowest = offset;
        var hops = 0;
        var wire = 0;
        end = -1;
        int id, knownHops, next;
        while (true)
        {
            if ((uint)pos >= (uint)_message.Length)
            {
                throw new DnsFormatException("a name runs past the end of the message", pos);
            }

            // Walked before: its name is known, if this walk could go on from here (the known name's first pointer
            // must also lie before every place this walk has been; otherwise the walk below rejects it).
            if (pos < _memoLimit && _memoId[pos] != 0 && (pos == lowest || _memoFirst[pos] < lowest))
            {
                (id, knownHops, next) = (_memoId[pos] - 1, _memoHops[pos], _memoFirst[pos]);
                if (wire + _ids.WireLength(id) > DnsName.MaxLength)
                {
                    throw new DnsFormatException("a name is longer than 255 bytes", offset);
                }

                if (hops + knownHops > DnsName.MaxPointerHops)
                {
                    throw new DnsFormatException($"a name follows more than {DnsName.MaxPointerHops} compression pointers", offset);
                }

                end = end < 0 ? EndInPlace(pos) : end;
                break;
            }

            var len = _message[pos];
            if (len == 0)
            {
                end = end < 0 ? pos + 1 : end;
                (id, knownHops, next) = (Root, 0, NoTarget);
                break;
            }

            switch (len & 0xC0)
            {
                case 0x00:
                    if (wire + len + 2 > DnsName.MaxLength)
                    {
                        throw new DnsFormatException("a name is longer than 255 bytes", offset);
                    }

                    if (pos + 1 + len > _message.Length)
                    {
                        throw new DnsFormatException("a label runs past the end of the message", pos);
                    }

                    (passed[count], hopsBefore[count]) = (pos, hops);
                    count++;
                    wire += len + 1;
                    pos += len + 1;
                    break;
                case 0xC0:
                    if (pos + 1 >= _message.Length)
                    {
                        throw new DnsFormatException("a compression pointer runs past the end of the message", pos);
                    }

                    var target = ((len & 0x3F) << 8) | _message[pos + 1];
                    end = end < 0 ? pos + 2 : end;

                    // Strictly backwards, and before every place already visited: this alone rules out loops.
                    if (target >= lowest)
                    {
                        throw new DnsFormatException($"a compression pointer to {target} does not point backwards", pos);
                    }

                    if (++hops > DnsName.MaxPointerHops)
                    {
                        throw new DnsFormatException($"a name follows more than {DnsName.MaxPointerHops} compression pointers", offset);
                    }

                    (passed[count], hopsBefore[count]) = (-1 - pos, hops - 1);
                    count++;
                    lowest = target;
                    pos = target;
                    break;
                default:
                    throw new DnsFormatException($"unsupported label type 0x{len:X2}", pos);
            }
        }

        // Back up the walk: each position passed gets its name, remembered for the next walk that gets there.
        var total = hops + knownHops;
        for (var i = count - 1; i >= 0; i--)
        {
            var at = passed[i];
            if (at >= 0)
            {
                id = _ids.Intern(at, id);
            }
            else
            {
                at = -1 - at;
                next = ((_message[at] & 0x3F) << 8) | _message[at + 1];
            }

            if (at < _memoLimit)
            {
                _memoId[at] = id + 1;
                _memoHops[at] = total - hopsBefore[i];
                _memoFirst[at] = next;
            }
        }

        return id;
    }

    /// <summary>
    /// The canonical text of the name at <paramref name="offset"/>, resolved before, as written there (letter case
    /// included): one pass, formatting as it goes.
    /// </summary>
    public readonly string Text(int offset) => new(_text[..DnsName.FormatValidated(_message, offset, _text)]);

    // The end of a name that starts at a position walked before: its labels in place, then a root or a pointer.
    private readonly int EndInPlace(int pos)
    {
        while (_message[pos] != 0 && (_message[pos] & 0xC0) == 0)
        {
            pos += _message[pos] + 1;
        }

        return pos + (_message[pos] == 0 ? 1 : 2);
    }

    /// <summary>The id of canonical text <paramref name="name"/> if the message holds that name, else <see cref="None"/>.</summary>
    public readonly int Find(string name)
    {
        Span<byte> wire = stackalloc byte[DnsName.MaxLength];
        if (!DnsNameText.TryEncode(name, wire))
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
            id = _ids.Lookup(wire.Slice(starts[i] + 1, wire[starts[i]]), id);
        }

        return id;
    }
}
