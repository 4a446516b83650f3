namespace CloudMapDiscovery.Testing.Internal;

/// <summary>
/// A zone's name and how the test server reads the names callers give it: a trailing dot, or ending in the zone, means
/// absolute; anything else is relative to the zone; <c>"@"</c> is the zone itself.
/// </summary>
/// <remarks>Names are kept lower-case and without the trailing dot.</remarks>
internal sealed class ZoneName
{
    public ZoneName(string zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var trimmed = zone.TrimEnd('.');
        DnsNames.Validate(trimmed, nameof(zone));
        Value = DnsNames.AsciiLower(trimmed);
    }

    public string Value { get; }

    /// <summary>Makes a name absolute, without checking that the result is inside the zone.</summary>
    public string Qualify(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "@")
        {
            return Value;
        }

        var lower = DnsNames.AsciiLower(name);
        if (lower.EndsWith('.'))
        {
            return lower[..^1];
        }

        return DnsNames.IsAtOrBelow(lower, Value) ? lower : lower + "." + Value;
    }

    public bool Contains(string absoluteName) => DnsNames.IsAtOrBelow(absoluteName, Value);

    /// <summary>A record's owner: a valid name inside the zone, else an <see cref="ArgumentException"/> naming <paramref name="parameter"/>.</summary>
    public string Owner(string name, string parameter)
    {
        var absolute = Target(name, parameter);
        if (!Contains(absolute))
        {
            throw new ArgumentException($"The name '{name}' is outside the zone '{Value}'.", parameter);
        }

        return absolute;
    }

    /// <summary>A name a record points at (an SRV target, a CNAME's canonical name): valid, and possibly outside the zone.</summary>
    public string Target(string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        var absolute = Qualify(name);
        DnsNames.Validate(absolute, parameter);
        return absolute;
    }
}
