namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// Domain names on the wire (RFC 1035 section 3.1 and 4.1.4). Every walk over a name is bounded:
/// a compression pointer must point strictly backwards (so no loop is possible) and a name may
/// not exceed 255 bytes, whatever the message says.
/// </summary>
internal static class DnsName
{
    public const int MaxLength = 255;
    private const int MaxLabelLength = 63;

    /// <summary>Returns the offset just past the name starting at <paramref name="offset"/>, validating it.</summary>
    public static int Skip(ReadOnlySpan<byte> message, int offset)
    {
        var end = -1;
        Walk(message, offset, ref end, default, out _);
        return end;
    }

    /// <summary>Whether the name at <paramref name="offset"/> equals <paramref name="name"/> (ASCII case-insensitive, no trailing dot).</summary>
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

    /// <summary>Reads the name at <paramref name="offset"/> as a dotted string without a trailing dot (the root is "").</summary>
    public static string Read(ReadOnlySpan<byte> message, int offset, out int end)
    {
        end = -1;
        Walk(message, offset, ref end, default, out var textLength);
        if (textLength == 0)
        {
            return string.Empty;
        }

        var buffer = textLength <= 512 ? stackalloc char[512] : new char[textLength];
        var written = Format(message, offset, buffer);
        return new string(buffer[..written]);
    }

    /// <summary>Reads the name at <paramref name="offset"/>, returning <paramref name="candidate"/> itself when equal so that the common case allocates nothing.</summary>
    public static string ReadOrReuse(ReadOnlySpan<byte> message, int offset, string candidate)
        => EqualsName(message, offset, candidate) ? candidate : Read(message, offset, out _);

    /// <summary>Writes <paramref name="name"/> uncompressed; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, string name)
    {
        var labels = name.AsSpan();
        var pos = 0;
        while (!labels.IsEmpty)
        {
            var dot = labels.IndexOf('.');
            var label = dot < 0 ? labels : labels[..dot];
            labels = dot < 0 ? [] : labels[(dot + 1)..];
            destination[pos++] = (byte)label.Length;
            foreach (var c in label)
            {
                destination[pos++] = (byte)c;
            }
        }

        destination[pos++] = 0;
        return pos;
    }

    /// <summary>
    /// Normalises and checks a host name given by a caller: strips one trailing dot, rejects empty
    /// labels, labels over 63 bytes, names over 255 bytes and anything outside printable ASCII.
    /// </summary>
    public static string Normalize(string name, out bool absolute)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        absolute = name.EndsWith('.');
        var trimmed = absolute ? name[..^1] : name;
        if (trimmed.Length == 0)
        {
            throw new ArgumentException($"'{name}' is not a host name.", nameof(name));
        }

        if (trimmed.Length + 2 > MaxLength)
        {
            throw new ArgumentException($"The name '{name}' is longer than 255 bytes.", nameof(name));
        }

        var labelLength = 0;
        foreach (var c in trimmed)
        {
            if (c == '.')
            {
                if (labelLength == 0)
                {
                    throw new ArgumentException($"The name '{name}' has an empty label.", nameof(name));
                }

                labelLength = 0;
                continue;
            }

            if (c <= ' ' || c > '~')
            {
                throw new ArgumentException($"The name '{name}' holds a character DNS cannot carry: '{c}' (use the punycode form of international names).", nameof(name));
            }

            if (++labelLength > MaxLabelLength)
            {
                throw new ArgumentException($"The name '{name}' has a label longer than 63 bytes.", nameof(name));
            }
        }

        if (labelLength == 0)
        {
            throw new ArgumentException($"The name '{name}' has an empty label.", nameof(name));
        }

        return trimmed;
    }

    /// <summary>Number of dots in a normalised name.</summary>
    public static int CountDots(string name) => name.AsSpan().Count('.');

    // One bounded walk serves skip, compare and measure. `compare` empty means "don't compare".
    // Returns whether the name equals `compare` (meaningful only when compare is not empty).
    private static bool Walk(ReadOnlySpan<byte> message, int offset, ref int end, ReadOnlySpan<char> compare, out int textLength)
    {
        var comparing = !compare.IsEmpty;
        var equal = comparing;
        var pos = offset;
        var wireLength = 0;
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

                        if (comparing && equal && textLength != compare.Length)
                        {
                            equal = false;
                        }

                        return equal;
                    }

                    wireLength += len + 1;
                    if (wireLength + 1 > MaxLength)
                    {
                        throw new DnsFormatException("a name is longer than 255 bytes", offset);
                    }

                    if (pos + 1 + len > message.Length)
                    {
                        throw new DnsFormatException("a label runs past the end of the message", pos);
                    }

                    var label = message.Slice(pos + 1, len);
                    if (comparing && equal)
                    {
                        equal = LabelEquals(label, compare, textLength);
                    }

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

                    lowestJump = target;
                    pos = target;
                    break;

                default:
                    throw new DnsFormatException($"unsupported label type 0x{len:X2}", pos);
            }
        }
    }

    private static bool LabelEquals(ReadOnlySpan<byte> label, ReadOnlySpan<char> compare, int textOffset)
    {
        var start = textOffset == 0 ? 0 : textOffset + 1;
        if (textOffset != 0 && (textOffset >= compare.Length || compare[textOffset] != '.'))
        {
            return false;
        }

        if (start + label.Length > compare.Length)
        {
            return false;
        }

        for (var i = 0; i < label.Length; i++)
        {
            var b = label[i];
            var c = compare[start + i];
            if (b == (byte)'.' || b == (byte)'\\' || b <= 0x20 || b > 0x7E)
            {
                return false; // such bytes are escaped in text form, and normalised names never hold them
            }

            if (ToLower(b) != ToLower(c))
            {
                return false;
            }
        }

        return true;
    }

    private static int ToLower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;

    private static int EscapedLength(ReadOnlySpan<byte> label)
    {
        var n = 0;
        foreach (var b in label)
        {
            n += NeedsEscape(b) ? 4 : 1;
        }

        return n;
    }

    private static bool NeedsEscape(byte b) => b <= 0x20 || b > 0x7E || b == (byte)'.' || b == (byte)'\\';

    private static int Format(ReadOnlySpan<byte> message, int offset, Span<char> destination)
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

            foreach (var b in message.Slice(pos + 1, len))
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

            pos += len + 1;
        }
    }

}
