using System.Buffers;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>Domain names on the wire (RFC 1035 sections 3.1 and 4.1.4), read into canonical text within fixed bounds.</summary>
/// <remarks>
/// A compression pointer must point strictly backwards, before the labels it ends (so no loop is possible); a name may
/// follow at most <see cref="MaxPointerHops"/> pointers and take at most 255 bytes. The text joins labels with dots
/// and writes each byte text cannot carry ('.', '\', space, control and non-ASCII bytes) as <c>\DDD</c>: one text per
/// wire name, which <see cref="DnsNameText.Write"/> turns back into the same bytes, so a CNAME or SRV target is asked
/// for exactly as the server wrote it. Letter case is kept as written; names compare as text with
/// <see cref="StringComparison.OrdinalIgnoreCase"/>, which for this ASCII form is DNS name equality.
/// </remarks>
internal static class DnsName
{
    public const int MaxLength = 255;
    public const int MaxLabelLength = 63;

    /// <summary>The most compression pointers one name may follow.</summary>
    /// <remarks>
    /// A 255-byte name has at most 127 labels and a compressor never needs more than one pointer per label, so no
    /// honest message comes near; without a bound, a chain of thousands of backward pointers is walked on every read.
    /// </remarks>
    public const int MaxPointerHops = 127;

    /// <summary>The longest text form of a wire name: 4 characters per byte when every byte is escaped.</summary>
    public const int MaxTextLength = 4 * MaxLength;

    // The bytes text cannot carry as themselves, for a vectorised search.
    private static readonly SearchValues<byte> Escaped = SearchValues.Create([.. Enumerable.Range(0, 256).Select(b => (byte)b).Where(NeedsEscape)]);

    /// <summary>Returns the offset just past the name starting at <paramref name="offset"/>, validating it.</summary>
    public static int Skip(ReadOnlySpan<byte> message, int offset)
    {
        Read(message, offset, out var end);
        return end;
    }

    /// <summary>Whether the name at <paramref name="offset"/> is <paramref name="name"/> (canonical text, ASCII case-insensitive).</summary>
    public static bool EqualsName(ReadOnlySpan<byte> message, int offset, string name)
        => string.Equals(Read(message, offset, out _), name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the name at <paramref name="offset"/> as canonical text without a trailing dot (the root is "").</summary>
    public static string Read(ReadOnlySpan<byte> message, int offset, out int end)
    {
        var cache = NameCache.Rent();
        try
        {
            return Read(message, offset, out end, cache);
        }
        finally
        {
            cache.Return();
        }
    }

    /// <summary>Reads the name at <paramref name="offset"/> as canonical text, through the reply's <paramref name="cache"/>.</summary>
    /// <remarks>
    /// A name is walked down its pointers, segment by segment (labels up to the root or a pointer), until the root or an
    /// offset the cache has read before; then each segment's text is made, last first, and cached where it starts. Each
    /// offset is read once per reply, so a chain of pointers is walked once, however many names lead into it.
    /// </remarks>
    public static string Read(ReadOnlySpan<byte> message, int offset, out int end, NameCache cache)
    {
        if (cache.TryGet(offset, out var rest))
        {
            end = rest.End;
            return rest.Text;
        }

        // Each segment's start, the name's wire length up to its end, and the offset just past it.
        var segments = cache.Segments;
        var (count, start, pos, wire) = (0, offset, offset, 0);
        (rest, var inCache) = (NameCache.Root, false);
        while (true)
        {
            if ((uint)pos >= (uint)message.Length)
            {
                throw new DnsFormatException("a name runs past the end of the message", pos);
            }

            var len = message[pos];
            if (len == 0)
            {
                segments[count++] = (start, wire, pos + 1);
                break;
            }

            if ((len & 0xC0) == 0)
            {
                CheckBounds(count, wire += len + 1, offset);
                if (pos + 1 + len > message.Length)
                {
                    throw new DnsFormatException("a label runs past the end of the message", pos);
                }

                pos += len + 1;
                continue;
            }

            if ((len & 0xC0) != 0xC0)
            {
                throw new DnsFormatException($"unsupported label type 0x{len:X2}", pos);
            }

            if (pos + 1 >= message.Length)
            {
                throw new DnsFormatException("a compression pointer runs past the end of the message", pos);
            }

            var target = ((len & 0x3F) << 8) | message[pos + 1];
            if (target >= start)
            {
                throw new DnsFormatException($"a compression pointer to {target} does not point backwards", pos);
            }

            CheckBounds(count + 1, wire, offset);
            segments[count++] = (start, wire, pos + 2);
            (start, pos) = (target, target);
            if (cache.TryGet(target, out var known))
            {
                CheckBounds(count + known.Hops, wire + known.Wire, offset);
                (rest, inCache) = (known, true);
                break;
            }
        }

        for (var i = count - 1; i >= 0; i--)
        {
            var (at, upTo, after) = segments[i];
            var own = upTo - (i > 0 ? segments[i - 1].Wire : 0);
            var text = own == 0 ? rest.Text : Format(message, at, cache.Text, rest.Text);
            rest = new NameCache.Entry(text, rest.Hops + (i < count - 1 || inCache ? 1 : 0), own + rest.Wire, after);

            // Not a name that is only a pointer where it starts (a record's owner, say): nothing else leads there.
            if (own > 0 || i > 0)
            {
                cache.Add(at, rest, own == 0 ? 0 : text.Length);
            }
        }

        end = rest.End;
        return rest.Text;
    }

    // A name that follows `hops` pointers and takes `wire` bytes before its root.
    private static void CheckBounds(int hops, int wire, int offset)
    {
        if (hops > MaxPointerHops)
        {
            throw new DnsFormatException($"a name follows more than {MaxPointerHops} compression pointers", offset);
        }

        if (wire + 1 > MaxLength)
        {
            throw new DnsFormatException("a name is longer than 255 bytes", offset);
        }
    }

    // The text of the labels at `offset` (read and checked already), then ".rest".
    private static string Format(ReadOnlySpan<byte> message, int offset, Span<char> scratch, string rest)
    {
        var length = 0;
        for (var pos = offset; message[pos] is > 0 and < 0x40; pos += message[pos] + 1)
        {
            if (length > 0)
            {
                scratch[length++] = '.';
            }

            length += FormatLabel(message.Slice(pos + 1, message[pos]), scratch[length..]);
        }

        return rest.Length == 0 ? new string(scratch[..length]) : string.Concat(scratch[..length], ".", rest);
    }

    // Writes one label in canonical text; returns the characters written.
    private static int FormatLabel(ReadOnlySpan<byte> label, Span<char> destination)
    {
        // Most labels need no escape at all: one vectorised search, then a widening copy.
        if (!label.ContainsAny(Escaped))
        {
            System.Text.Encoding.Latin1.GetChars(label, destination);
            return label.Length;
        }

        var written = 0;
        foreach (var b in label)
        {
            if (NeedsEscape(b))
            {
                destination[written++] = '\\';
                destination[written++] = (char)('0' + (b / 100));
                destination[written++] = (char)('0' + (b / 10 % 10));
                destination[written] = (char)('0' + (b % 10));
            }
            else
            {
                destination[written] = (char)b;
            }

            written++;
        }

        return written;
    }

    private static bool NeedsEscape(byte b) => b <= 0x20 || b > 0x7E || b == (byte)'.' || b == (byte)'\\';
}
