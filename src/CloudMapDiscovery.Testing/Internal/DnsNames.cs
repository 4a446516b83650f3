namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Name handling shared by the zone and the codec.</summary>
/// <remarks>Names are kept lower-case, dotted, without the root dot.</remarks>
internal static class DnsNames
{
    /// <summary>Lower-cases A-Z only: DNS compares names ASCII case-insensitively, and other characters must stay as they were.</summary>
    public static string AsciiLower(string value)
    {
        var needed = false;
        foreach (var c in value)
        {
            if (c is >= 'A' and <= 'Z')
            {
                needed = true;
                break;
            }
        }

        if (!needed)
        {
            return value;
        }

        return string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c is >= 'A' and <= 'Z' ? (char)(c + 32) : c;
            }
        });
    }

    public static string[] SplitLabels(string name) =>
        name.Length == 0 ? [] : name.Split('.');

    /// <summary>Checks a dotted name written by a test author; the wire decoder has its own limits.</summary>
    public static void Validate(string name, string parameterName)
    {
        if (name.Length == 0)
        {
            throw new ArgumentException("A name must not be empty.", parameterName);
        }

        if (name.Length > 253)
        {
            throw new ArgumentException($"The name '{name}' is longer than 253 characters.", parameterName);
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                throw new ArgumentException($"The name '{name}' has an empty label or one longer than 63 characters.", parameterName);
            }

            foreach (var c in label)
            {
                if (c <= ' ' || c > '~')
                {
                    throw new ArgumentException($"The name '{name}' holds a character other than printable ASCII.", parameterName);
                }
            }
        }
    }

    public static bool IsAtOrBelow(string name, string zone) =>
        name.Length == zone.Length
            ? string.Equals(name, zone, StringComparison.Ordinal)
            : name.Length > zone.Length && name[^(zone.Length + 1)] == '.' && name.EndsWith(zone, StringComparison.Ordinal);
}
