namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// Names in text form (see <see cref="DnsName"/> for the canonical form): checking and normalising a caller's name,
/// and writing text back to wire form.
/// </summary>
internal static class DnsNameText
{
    private const string EmptyLabel = "has an empty label";
    private const string BadEscape = "has an incomplete escape (a backslash must be followed by a character or three digits up to 255)";

    /// <summary>Writes <paramref name="name"/> (canonical text, escapes included) uncompressed; returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The text is not a name; names given to the resolver are checked before they get here.</exception>
    public static int Write(Span<byte> destination, string name)
    {
        var problem = Encode(name, destination, out var written, out _);
        return problem is null ? written : throw new ArgumentException($"'{name}' cannot be written as a DNS name: it {problem}.", nameof(name));
    }

    /// <summary>
    /// Normalises and checks a host name given by a caller: strips one trailing dot, rejects empty labels, labels over
    /// 63 bytes, names over 255 bytes and anything outside printable ASCII.
    /// </summary>
    /// <remarks>
    /// Escapes (<c>\DDD</c>, <c>\.</c>) are taken as in zone files, and the result is canonical text, so a name read
    /// off the wire can be passed back in.
    /// </remarks>
    public static string Normalize(string name, out bool absolute)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name == ".")
        {
            throw new ArgumentException($"'{name}' is not a host name.", nameof(name));
        }

        Span<byte> wire = stackalloc byte[DnsName.MaxLength];
        var reason = Encode(name, wire, out var length, out absolute);
        if (reason is not null)
        {
            throw new ArgumentException($"The name '{name}' {reason}.", nameof(name));
        }

        // Already canonical, the common case, allocates nothing more.
        var trimmed = absolute ? name[..^1] : name;
        return trimmed.Contains('\\', StringComparison.Ordinal) ? DnsName.Read(wire[..length], 0, out _) : trimmed;
    }

    /// <summary>Number of label separators in a normalised (canonical) name, where an escaped dot is <c>\046</c>.</summary>
    public static int CountDots(string name) => name.AsSpan().Count('.');

    // Text to wire bytes: labels split at unescaped dots, \DDD and \X decoded; the empty text is the root, and a final
    // unescaped dot makes the name absolute. Returns what makes the text not a name, or null.
    private static string? Encode(ReadOnlySpan<char> text, Span<byte> destination, out int written, out bool absolute)
    {
        (written, absolute) = (0, false);
        var lengthAt = 0;
        var pos = 1;
        var labelLength = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '.')
            {
                if (labelLength == 0)
                {
                    return EmptyLabel;
                }

                destination[lengthAt] = (byte)labelLength;
                lengthAt = pos++;
                labelLength = 0;
                continue;
            }

            if (c <= ' ' || c > '~')
            {
                return $"holds a character DNS cannot carry: '{c}' (use the punycode form of international names)";
            }

            int value = c;
            if (c == '\\')
            {
                if (!TryUnescape(text, ref i, out value))
                {
                    return BadEscape;
                }
            }

            if (++labelLength > DnsName.MaxLabelLength)
            {
                return "has a label longer than 63 bytes";
            }

            if (pos + 1 >= DnsName.MaxLength || pos >= destination.Length)
            {
                return "is longer than 255 bytes";
            }

            destination[pos++] = (byte)value;
        }

        if (labelLength > 0)
        {
            destination[lengthAt] = (byte)labelLength;
            lengthAt = pos++;
        }

        absolute = labelLength == 0 && text.Length > 0;
        destination[lengthAt] = 0;
        written = pos;
        return null;
    }

    // At text[i] == '\\': decodes \DDD (000-255) or \X (X printable ASCII) and leaves i on the last character used.
    private static bool TryUnescape(ReadOnlySpan<char> text, ref int i, out int value)
    {
        value = 0;
        if (i + 1 >= text.Length || text[i + 1] <= ' ' || text[i + 1] > '~')
        {
            return false;
        }

        if (!char.IsAsciiDigit(text[i + 1]))
        {
            value = text[++i];
            return true;
        }

        if (i + 3 >= text.Length || !char.IsAsciiDigit(text[i + 2]) || !char.IsAsciiDigit(text[i + 3]))
        {
            return false;
        }

        value = ((text[i + 1] - '0') * 100) + ((text[i + 2] - '0') * 10) + (text[i + 3] - '0');
        i += 3;
        return value <= 255;
    }
}
