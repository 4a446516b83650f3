using System.Net;

namespace CloudMapDiscovery.Dns.Configuration;

/// <summary>The resolver's effective settings: options first, then resolv.conf, then our defaults.</summary>
internal sealed class ResolverSettings
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);
    public const int DefaultAttempts = 2;
    public const int DefaultNdots = 1;

    public required IReadOnlyList<IPEndPoint> NameServers { get; init; }

    public required IReadOnlyList<string> SearchDomains { get; init; }

    public required int Ndots { get; init; }

    public required TimeSpan Timeout { get; init; }

    public required int Attempts { get; init; }

    public required bool Rotate { get; init; }

    public required int UdpPayloadSize { get; init; }

    public required int MaxCnameChain { get; init; }

    /// <summary>Where the name servers came from, for error messages.</summary>
    public required string NameServerSource { get; init; }

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
        return new ResolverSettings
        {
            NameServers = fromOptions ? options.NameServers.Select(NameServerAddress.Parse).ToArray() : conf.NameServers.ToArray(),
            NameServerSource = fromOptions ? "options" : options.ResolvConfPath,
            SearchDomains = options.SearchDomains.Count > 0 ? CanonicalDomains(options.SearchDomains) : CanonicalDomains(conf.SearchDomains),
            Ndots = options.Ndots ?? conf.Ndots ?? DefaultNdots,
            Timeout = options.Timeout ?? conf.Timeout ?? DefaultTimeout,
            Attempts = options.Attempts ?? conf.Attempts ?? DefaultAttempts,
            Rotate = options.Rotate ?? conf.Rotate ?? false,
            UdpPayloadSize = options.UdpPayloadSize,
            MaxCnameChain = options.MaxCnameChain,
        };
    }

    // Search domains in the canonical text form that names are compared in. Options were validated above; a
    // resolv.conf domain that is not a DNS name (the system resolver would skip it too) is left out.
    private static string[] CanonicalDomains(IEnumerable<string> domains)
    {
        var canonical = new List<string>();
        foreach (var domain in domains.Select(d => d.Trim().TrimEnd('.')).Where(d => d.Length > 0))
        {
            try
            {
                canonical.Add(Wire.DnsNameText.Normalize(domain, out _));
            }
            catch (ArgumentException)
            {
            }
        }

        return [.. canonical];
    }

    /// <summary>Every problem with the options, one clear sentence each.</summary>
    public static List<string> Validate(DnsResolverOptions options)
    {
        var errors = new List<string>();
        ResolverRules.NameServers(errors, nameof(options.NameServers), options.NameServers);
        ResolverRules.Timeout(errors, nameof(options.Timeout), options.Timeout);
        ResolverRules.Attempts(errors, nameof(options.Attempts), options.Attempts);

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
            try
            {
                if (domain.Trim().TrimEnd('.').Length > 0)
                {
                    Wire.DnsNameText.Normalize(domain.Trim(), out _);
                }
            }
            catch (ArgumentException ex)
            {
                errors.Add("SearchDomains: " + ex.Message);
            }
        }

        if (options.MaxCnameChain is < 0 or > 32)
        {
            errors.Add($"MaxCnameChain must be from 0 to 32 (was {options.MaxCnameChain}).");
        }

        return errors;
    }
}
