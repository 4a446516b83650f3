namespace CloudMapDiscovery.Dns.Configuration;

/// <summary>The limits of the resolver's settings, each worded once and given the name of the option that holds it.</summary>
/// <remarks>
/// The same setting is written in three places: <see cref="DnsResolverOptions"/>, the library's
/// <c>CloudMapDiscoveryOptions</c> (<c>DnsTimeout</c>, <c>DnsAttempts</c>) and the command line (<c>--timeout</c>,
/// <c>--attempts</c>, <c>--server</c>). Each passes its own option name, so a value is accepted or refused alike
/// everywhere, with the same words.
/// </remarks>
internal static class ResolverRules
{
    public const int MaxAttempts = 10;

    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Adds an error for each name server in <paramref name="servers"/> that is not one.</summary>
    public static void NameServers(List<string> errors, string option, IEnumerable<string> servers)
    {
        foreach (var server in servers)
        {
            if (NameServer(option, server) is { } error)
            {
                errors.Add(error);
            }
        }
    }

    public static string? NameServer(string option, string? server)
        => NameServerAddress.TryParse(server, out _, out var error) ? null : $"{option}: {error}.";

    public static void Timeout(List<string> errors, string option, TimeSpan? timeout)
    {
        if (timeout is { } t && (t <= TimeSpan.Zero || t > MaxTimeout))
        {
            errors.Add($"{option} must be more than 0 and at most 1 minute (was {t}).");
        }
    }

    public static void Attempts(List<string> errors, string option, int? attempts)
    {
        if (attempts is { } a && a is < 1 or > MaxAttempts)
        {
            errors.Add($"{option} must be from 1 to {MaxAttempts} (was {a}).");
        }
    }
}
