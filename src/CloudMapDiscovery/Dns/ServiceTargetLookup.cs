using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns.Wire;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Dns;

/// <summary>
/// The addresses of SRV targets that a reply left out, asked for directly. Cloud Map puts the targets' A/AAAA records
/// in the additional section; when a server does not, each distinct target is asked for once (its result shared by
/// every record naming it), at most <see cref="DnsLimits.MaxTargetLookups"/> of them. A target that cannot be
/// resolved keeps an empty address list (the SRV answer itself is good), and the failure is logged.
/// </summary>
internal sealed class ServiceTargetLookup
{
    private readonly Func<string, DnsRecordType, long, CancellationToken, ValueTask<DnsQueryResult>> _resolve;
    private readonly ILogger _logger;

    /// <param name="resolve">Resolves one name and type (following CNAMEs), as the resolver does for a question.</param>
    /// <param name="logger">Where failed targets are logged.</param>
    public ServiceTargetLookup(Func<string, DnsRecordType, long, CancellationToken, ValueTask<DnsQueryResult>> resolve, ILogger logger)
    {
        _resolve = resolve;
        _logger = logger;
    }

    /// <summary>Whether any of <paramref name="services"/> needs its target's addresses asked for.</summary>
    public static bool AnyNeeded(List<DnsServiceRecord> services) => services.Exists(NeedsAddresses);

    /// <summary><paramref name="services"/> with the addresses of their targets filled in where the reply left them out.</summary>
    public async ValueTask<List<DnsServiceRecord>> FillAsync(string name, List<DnsServiceRecord> services, long start, CancellationToken cancellationToken)
    {
        var lookups = new Dictionary<string, Task<DnsAddressRecord[]>>(StringComparer.OrdinalIgnoreCase);
        var skipped = 0;
        foreach (var service in services)
        {
            if (!NeedsAddresses(service) || lookups.ContainsKey(service.Target))
            {
                continue;
            }

            if (lookups.Count == DnsLimits.MaxTargetLookups)
            {
                skipped++;
                continue;
            }

            lookups.Add(service.Target, TargetAddressesAsync(service, start, cancellationToken));
        }

        if (skipped > 0)
        {
            Log.DnsServiceTargetsSkipped(_logger, name, DnsLimits.MaxTargetLookups, skipped);
        }

        await Task.WhenAll(lookups.Values).ConfigureAwait(false);
        return services.ConvertAll(s => NeedsAddresses(s) && lookups.TryGetValue(s.Target, out var found) ? s with { Addresses = found.Result } : s);
    }

    private async Task<DnsAddressRecord[]> TargetAddressesAsync(DnsServiceRecord service, long start, CancellationToken cancellationToken)
    {
        // A and AAAA separately: one family failing must not lose the other's addresses.
        var v4 = FamilyAddressesAsync(service, DnsRecordType.A, start, cancellationToken);
        var v6 = FamilyAddressesAsync(service, DnsRecordType.AAAA, start, cancellationToken);
        return [.. await v4.ConfigureAwait(false), .. await v6.ConfigureAwait(false)];
    }

    private async Task<IReadOnlyList<DnsAddressRecord>> FamilyAddressesAsync(DnsServiceRecord service, DnsRecordType type, long start, CancellationToken cancellationToken)
    {
        try
        {
            return (await _resolve(service.Target, type, start, cancellationToken).ConfigureAwait(false)).Addresses;
        }
        catch (DnsResolutionException ex)
        {
            Log.DnsServiceTargetFailed(_logger, service.Target, service.Name, ex.Message);
            return [];
        }
    }

    // RFC 2782: a target of "." (read as "") means the service is decidedly not available; there is nothing to ask.
    private static bool NeedsAddresses(DnsServiceRecord service) => service.Addresses.Count == 0 && service.Target.Length > 0;
}
