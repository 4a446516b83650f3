using System.Net;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns.Configuration;

/// <summary>The resolver's effective settings: options first, then resolv.conf, then our defaults.</summary>
/// <remarks>
/// Also the limits of those settings, each worded once. The same setting is written in three places:
/// <see cref="DnsResolverOptions"/>, the library's <c>CloudMapDiscoveryOptions</c> (<c>DnsTimeout</c>,
/// <c>DnsAttempts</c>) and the command line (<c>--timeout</c>, <c>--attempts</c>, <c>--server</c>); each checks it here
/// under its own option name, so a value is accepted or refused alike everywhere, with the same words.
/// <c>NameServerSource</c> says where the name servers came from, for error messages.
/// </remarks>
internal sealed record ResolverSettings(
    IReadOnlyList<IPEndPoint> NameServers,
    string NameServerSource,
    IReadOnlyList<string> SearchDomains,
    int Ndots,
    TimeSpan Timeout,
    int Attempts,
    bool Rotate,
    int UdpPayloadSize,
    int MaxCnameChain)
{
    public const int DefaultAttempts = 2;
    public const int DefaultNdots = 1;
    public const int MaxAttempts = 10;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(1);

    public static ResolverSettings From(DnsResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid DNS resolver options: " + string.Join("; ", errors), nameof(options));
        }

        // resolv.conf describes the system's resolver: its search list, ndots and timeouts belong with its name
        // servers. Name servers given in options bypass it whole, so nothing of it leaks into their queries.
        var fromOptions = options.NameServers.Count > 0;
        var conf = fromOptions ? new ResolvConf() : ResolvConf.Load(options.ResolvConfPath);

        // A resolv.conf domain that is not a DNS name (the system resolver would skip it too) is left out.
        var domains = options.SearchDomains.Count > 0 ? options.SearchDomains : conf.SearchDomains;
        return new ResolverSettings(
            NameServers: fromOptions ? options.NameServers.Select(NameServerAddress.Parse).ToArray() : conf.NameServers.ToArray(),
            NameServerSource: fromOptions ? "options" : options.ResolvConfPath,
            SearchDomains: domains.Select(d => CanonicalDomain(d, out _)).OfType<string>().ToArray(),
            Ndots: options.Ndots ?? conf.Ndots ?? DefaultNdots,
            Timeout: options.Timeout ?? conf.Timeout ?? DefaultTimeout,
            Attempts: options.Attempts ?? conf.Attempts ?? DefaultAttempts,
            Rotate: options.Rotate ?? conf.Rotate ?? false,
            UdpPayloadSize: options.UdpPayloadSize,
            MaxCnameChain: options.MaxCnameChain);
    }

    /// <summary>Every problem with the options, one clear sentence each.</summary>
    public static List<string> Validate(DnsResolverOptions options)
    {
        var errors = new List<string>();
        CheckNameServers(errors, nameof(options.NameServers), options.NameServers);
        CheckTimeout(errors, nameof(options.Timeout), options.Timeout);
        CheckAttempts(errors, nameof(options.Attempts), options.Attempts);

        if (options.Ndots is { } n && n is < 0 or > 15)
        {
            errors.Add($"Ndots must be from 0 to 15 (was {n}).");
        }

        if (options.UdpPayloadSize is < 512 or > 4096)
        {
            errors.Add($"UdpPayloadSize must be from 512 to 4096 bytes (was {options.UdpPayloadSize}).");
        }

        foreach (var domain in options.SearchDomains)
        {
            if (CanonicalDomain(domain, out var error) is null && error is not null)
            {
                errors.Add("SearchDomains: " + error);
            }
        }

        if (options.MaxCnameChain is < 0 or > 32)
        {
            errors.Add($"MaxCnameChain must be from 0 to 32 (was {options.MaxCnameChain}).");
        }

        return errors;
    }

    /// <summary>Adds an error, under the name <paramref name="option"/>, for each name server in <paramref name="servers"/> that is not one.</summary>
    public static void CheckNameServers(List<string> errors, string option, IEnumerable<string> servers)
    {
        foreach (var server in servers)
        {
            if (!NameServerAddress.TryParse(server, out _, out var error))
            {
                errors.Add($"{option}: {error}.");
            }
        }
    }

    public static void CheckTimeout(List<string> errors, string option, TimeSpan? timeout)
    {
        if (timeout is { } t && (t <= TimeSpan.Zero || t > MaxTimeout))
        {
            errors.Add($"{option} must be more than 0 and at most 1 minute (was {t}).");
        }
    }

    public static void CheckAttempts(List<string> errors, string option, int? attempts)
    {
        if (attempts is { } a && a is < 1 or > MaxAttempts)
        {
            errors.Add($"{option} must be from 1 to {MaxAttempts} (was {a}).");
        }
    }

    // A search domain in the canonical text form that names are compared in; null when blank or not a DNS name (error set).
    private static string? CanonicalDomain(string domain, out string? error)
    {
        error = null;
        var trimmed = domain.Trim().TrimEnd('.');
        try
        {
            return trimmed.Length > 0 ? DnsNameText.Normalize(trimmed, out _) : null;
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return null;
        }
    }
}
