namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// Domain names on the wire (RFC 1035 section 3.1 and 4.1.4). Every walk over a name is bounded: a compression
/// pointer must point strictly backwards (so no loop is possible), a name may not exceed 255 bytes, and it may
/// follow at most <see cref="MaxPointerHops"/> pointers, whatever the message says.
/// </summary>
/// <remarks>
/// Names leave the wire in text form: labels joined by dots, and each byte that text cannot carry as itself
/// ('.', '\', space, control and non-ASCII bytes) written as <c>\DDD</c>. That form is canonical (one text per
/// wire name) and <see cref="DnsNameText.Write"/> turns it back into the same bytes, so a name read off the wire, such as a
/// CNAME or SRV target, is asked for exactly as the server wrote it. Comparisons expect canonical text, which is
/// what <see cref="Read"/> and <see cref="DnsNameText.Normalize"/> return.
/// </remarks>
internal static class DnsName
{
    public const int MaxLength = 255;
    public const int MaxLabelLength = 63;

    /// <summary>
    /// The most compression pointers one name may follow. A 255-byte name has at most 127 labels and a compressor
    /// never needs more than one pointer per label, so no honest message comes near; without a bound, a chain of
    /// thousands of pointers (each 2 bytes, each strictly backwards) is walked on every read and compare.
    /// </summary>
    public const int MaxPointerHops = 127;

    /// <summary>The longest text form of a wire name: 4 characters per byte when every byte is escaped, plus the dots.</summary>
    public const int MaxTextLength = 4 * MaxLength;

    // The bytes text cannot carry as themselves (NeedsEscape), for vectorised searches.
    private static readonly System.Buffers.SearchValues<byte> Escaped = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 256).Where(b => NeedsEscape((byte)b)).Select(b => (byte)b)]);

    /// <summary>Returns the offset just past the name starting at <paramref name="offset"/>, validating it.</summary>
    public static int Skip(ReadOnlySpan<byte> message, int offset)
    {
        var end = -1;
        Walk(message, offset, ref end, default, out _);
        return end;
    }

    /// <summary>Whether the name at <paramref name="offset"/> equals <paramref name="name"/>, canonical text without a trailing dot (ASCII case-insensitive).</summary>
    public static bool EqualsName(ReadOnlySpan<byte> message, int offset, string name)
    {
        var end = -1;
        if (name.Length == 0)
        {
            // The root: Walk takes an empty comparand as "don't compare", so measure instead.
            Walk(message, offset, ref end, default, out var textLength);
            return textLength == 0;
        }

        return Walk(message, offset, ref end, name.AsSpan(), out _);
    }

    /// <summary>Reads the name at <paramref name="offset"/> as canonical text without a trailing dot (the root is "").</summary>
    public static string Read(ReadOnlySpan<byte> message, int offset, out int end)
    {
        end = -1;
        Walk(message, offset, ref end, default, out var textLength);
        if (textLength == 0)
        {
            return string.Empty;
        }

        var buffer = textLength <= 512 ? stackalloc char[512] : new char[textLength];
        var written = FormatValidated(message, offset, buffer);
        return new string(buffer[..written]);
    }

    // One bounded walk serves skip, compare and measure. `compare` empty means "don't compare". Returns whether the
    // name equals `compare`. (NameTable walks the same way, remembering what it found.)
    private static bool Walk(ReadOnlySpan<byte> message, int offset, ref int end, ReadOnlySpan<char> compare, out int textLength)
    {
        var comparing = !compare.IsEmpty;
        var equal = comparing;
        var pos = offset;
        var wireLength = 0;
        var hops = 0;
        textLength = 0;
        var lowestJump = offset;

        while (true)
        {
            if ((uint)pos >= (uint)message.Length)
            {
                throw new DnsFormatException("a name runs past the end of the message", pos);
            }

            var len = message[pos];
            switch (len & 0xC0)
            {
                case 0x00:
                    if (len == 0)
                    {
                        if (end < 0)
                        {
                            end = pos + 1;
                        }

                        return equal && textLength == compare.Length;
                    }

                    if (wireLength + len + 2 > MaxLength)
                    {
                        throw new DnsFormatException("a name is longer than 255 bytes", offset);
                    }

                    if (pos + 1 + len > message.Length)
                    {
                        throw new DnsFormatException("a label runs past the end of the message", pos);
                    }

                    var label = message.Slice(pos + 1, len);
                    if (equal)
                    {
                        equal = LabelEquals(label, compare, textLength);
                    }

                    wireLength += len + 1;
                    textLength += (textLength == 0 ? 0 : 1) + EscapedLength(label);
                    pos += len + 1;
                    break;

                case 0xC0:
                    if (pos + 1 >= message.Length)
                    {
                        throw new DnsFormatException("a compression pointer runs past the end of the message", pos);
                    }

                    var target = ((len & 0x3F) << 8) | message[pos + 1];
                    if (end < 0)
                    {
                        end = pos + 2;
                    }

                    // Strictly backwards, and before every place already visited: this alone rules out loops.
                    if (target >= lowestJump)
                    {
                        throw new DnsFormatException($"a compression pointer to {target} does not point backwards", pos);
                    }

                    if (++hops > MaxPointerHops)
                    {
                        throw new DnsFormatException($"a name follows more than {MaxPointerHops} compression pointers", offset);
                    }

                    lowestJump = target;
                    pos = target;
                    break;

                default:
                    throw new DnsFormatException($"unsupported label type 0x{len:X2}", pos);
            }
        }
    }

    // Compares one wire label with the canonical text that starts at `textOffset` (or at the dot there).
    private static bool LabelEquals(ReadOnlySpan<byte> label, ReadOnlySpan<char> compare, int textOffset)
    {
        var at = textOffset;
        if (textOffset != 0)
        {
            if (textOffset >= compare.Length || compare[textOffset] != '.')
            {
                return false;
            }

            at++;
        }

        foreach (var b in label)
        {
            if (NeedsEscape(b))
            {
                if (at + 4 > compare.Length || compare[at] != '\\'
                    || compare[at + 1] != (char)('0' + (b / 100)) || compare[at + 2] != (char)('0' + (b / 10 % 10)) || compare[at + 3] != (char)('0' + (b % 10)))
                {
                    return false;
                }

                at += 4;
                continue;
            }

            if (at >= compare.Length || ToLower(b) != ToLower(compare[at]))
            {
                return false;
            }

            at++;
        }

        return true;
    }

    private static int ToLower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;

    /// <summary>Lower-cases A-Z only: DNS compares names ASCII case-insensitively.</summary>
    public static byte ToLowerAscii(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    // The length of a label in canonical text.
    private static int EscapedLength(ReadOnlySpan<byte> label)
    {
        var n = label.Length;
        foreach (var b in label)
        {
            n += NeedsEscape(b) ? 3 : 0;
        }

        return n;
    }

    // Writes one label in canonical text; returns the characters written (EscapedLength).
    private static int FormatLabel(ReadOnlySpan<byte> label, Span<char> destination)
    {
        // Most labels need no escape at all: one vectorised search, then a plain widening copy.
        if (label.Length > 8 && !label.ContainsAny(Escaped))
        {
            for (var i = 0; i < label.Length; i++)
            {
                destination[i] = (char)label[i];
            }

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
                destination[written++] = (char)('0' + (b % 10));
            }
            else
            {
                destination[written++] = (char)b;
            }
        }

        return written;
    }

    private static bool NeedsEscape(byte b) => b <= 0x20 || b > 0x7E || b == (byte)'.' || b == (byte)'\\';

    /// <summary>Writes the canonical text of a name already validated by a walk; returns the characters written.</summary>
    public static int FormatValidated(ReadOnlySpan<byte> message, int offset, Span<char> destination)
    {
        // The name was validated by Walk, so this loop needs no bounds or loop checks of its own.
        var pos = offset;
        var written = 0;
        while (true)
        {
            var len = message[pos];
            if (len == 0)
            {
                return written;
            }

            if ((len & 0xC0) == 0xC0)
            {
                pos = ((len & 0x3F) << 8) | message[pos + 1];
                continue;
            }

            if (written > 0)
            {
                destination[written++] = '.';
            }

            written += FormatLabel(message.Slice(pos + 1, len), destination[written..]);
            pos += len + 1;
        }
    }
}
