namespace CloudMapDiscovery.DependencyInjection;

/// <summary>The checks of the zone-aware routing options, each message naming its option.</summary>
internal static class ZoneOptionsRules
{
    // A zone name is a region and a letter (eu-west-1a, us-east-1-bos-1a for a Local Zone); a zone ID a short code
    // (euw1-az1, use1-bos1-az1): lower-case letters, digits and dashes, at most 64 characters.
    public static void Check(List<string> errors, CloudMapDiscoveryOptions o)
    {
        Name(errors, nameof(o.Zone), o.Zone, "eu-west-1a");
        Name(errors, nameof(o.ZoneId), o.ZoneId, "euw1-az1");
        if (o.ZoneMinEndpoints is < 1 or > 1_000)
        {
            errors.Add($"ZoneMinEndpoints must be from 1 to 1000 (was {o.ZoneMinEndpoints}).");
        }

        if (o.ZoneMinHealthyLocal is < 1 or > 1_000)
        {
            errors.Add($"ZoneMinHealthyLocal must be from 1 to 1000 (was {o.ZoneMinHealthyLocal}).");
        }
        else if (o.ZoneMinHealthyLocal > o.ZoneMinEndpoints)
        {
            errors.Add($"ZoneMinHealthyLocal ({o.ZoneMinHealthyLocal}) must not be more than ZoneMinEndpoints ({o.ZoneMinEndpoints}).");
        }
    }

    private static void Name(List<string> errors, string option, string? value, string example)
    {
        if (value is null)
        {
            return;
        }

        var v = value.Trim();
        if (v.Length is 0 or > 64 || !v.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            errors.Add($"{option} '{value}' is not an Availability Zone {(option == "Zone" ? "name" : "ID")} such as {example} (lower-case letters, digits and dashes).");
        }
    }
}
