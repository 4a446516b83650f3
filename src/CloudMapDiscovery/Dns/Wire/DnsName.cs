using System.Buffers;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>Domain names on the wire (RFC 1035 sections 3.1 and 4.1.4), read into canonical text within fixed bounds.</summary>
/// <remarks>
/// A compression pointer must point strictly backwards, before every place the walk has been (so no loop is
/// possible); a name may follow at most <see cref="MaxPointerHops"/> pointers and take at most 255 bytes. The text
/// joins labels with dots and writes each byte text cannot carry ('.', '\', space, control and non-ASCII bytes) as
/// <c>\DDD</c>: one text per wire name, which <see cref="DnsNameText.Write"/> turns back into the same bytes, so a
/// CNAME or SRV target is asked for exactly as the server wrote it. Letter case is kept as written; names compare as
/// text with <see cref="StringComparison.OrdinalIgnoreCase"/>, which for this ASCII form is DNS name equality.
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
    public static string Read(ReadOnlySpan<byte> message, int offset, out int end) => Read(message, offset, out end, null);

    /// <summary>Reads the name at <paramref name="offset"/> as canonical text, going through <paramref name="cache"/> when one is given.</summary>
    public static string Read(ReadOnlySpan<byte> message, int offset, out int end, NameCache? cache)
    {
        // A reply's names use the cache's scratch: stack memory would be zeroed on every read, names found at once included.
        Span<char> text = cache is not null ? cache.Text : stackalloc char[MaxTextLength];
        Span<(int Target, int At, int Length, int Hops, int Wire)> jumps = cache is not null ? cache.Jumps : stackalloc (int, int, int, int, int)[MaxPointerHops];
        var (pos, lowest, length, hops, wire, rootEnd) = (offset, offset, 0, 0, 0, -1);
        var tail = NameCache.Root;
        end = -1;
        while (true)
        {
            if ((uint)pos >= (uint)message.Length)
            {
                throw new DnsFormatException("a name runs past the end of the message", pos);
            }

            // Where this walk starts or has just jumped to, a name read before is this name's rest.
            if (pos == lowest && cache is not null && cache.TryGet(pos, out var known))
            {
                (tail, end) = (known, end < 0 ? known.End : end);
                break;
            }

            var len = message[pos];
            if (len == 0)
            {
                end = end < 0 ? pos + 1 : end;
                rootEnd = pos + 1;
                break;
            }

            if ((len & 0xC0) == 0)
            {
                CheckBounds(hops, wire + len + 2, offset);
                if (pos + 1 + len > message.Length)
                {
                    throw new DnsFormatException("a label runs past the end of the message", pos);
                }

                if (length > 0)
                {
                    text[length++] = '.';
                }

                length += FormatLabel(message.Slice(pos + 1, len), text[length..]);
                wire += len + 1;
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
            end = end < 0 ? pos + 2 : end;
            if (target >= lowest)
            {
                throw new DnsFormatException($"a compression pointer to {target} does not point backwards", pos);
            }

            CheckBounds(++hops, wire + 1, offset);
            jumps[hops - 1] = (target, pos, length, hops, wire);
            (lowest, pos) = (target, target);
        }

        CheckBounds(hops + tail.Hops, wire + tail.Wire + 1, offset);

        var name = tail.Text.Length == 0 ? new string(text[..length]) : length == 0 ? tail.Text : string.Concat(text[..length], ".", tail.Text);
        if (cache is not null)
        {
            Remember(cache, jumps[..hops], name, length, tail, hops + tail.Hops, wire + tail.Wire, offset, end, rootEnd);
        }

        return name;
    }

    // Every place this walk started at or jumped to gets the rest of the name from there, with what it took to read.
    private static void Remember(
        NameCache cache, ReadOnlySpan<(int Target, int At, int Length, int Hops, int Wire)> jumps, string name, int length, NameSuffix tail, int hops, int wire, int offset, int end, int rootEnd)
    {
        // Where a name starts with a pointer nothing else can lead (a pointer to a pointer aside, which just walks on).
        if (length > 0)
        {
            cache.Add(offset, new NameSuffix(name, hops, wire, end), name.Length);
        }

        for (var i = 0; i < jumps.Length; i++)
        {
            var (target, _, at, before, wireBefore) = jumps[i];
            var rest = at == 0 ? name : at == length ? tail.Text : name[(at + 1)..];
            var restEnd = i + 1 < jumps.Length ? jumps[i + 1].At + 2 : rootEnd;
            if (restEnd >= 0)
            {
                cache.Add(target, new NameSuffix(rest, hops - before, wire - wireBefore, restEnd), at == 0 || at == length ? 0 : rest.Length);
            }
        }
    }

    // A name of `wire` bytes (root included) that follows `hops` pointers.
    private static void CheckBounds(int hops, int wire, int offset)
    {
        if (hops > MaxPointerHops)
        {
            throw new DnsFormatException($"a name follows more than {MaxPointerHops} compression pointers", offset);
        }

        if (wire > MaxLength)
        {
            throw new DnsFormatException("a name is longer than 255 bytes", offset);
        }
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
