using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns;

// SRV targets whose addresses the reply left out, asked for directly.
public sealed partial class DnsResolver
{
    // Cloud Map puts the targets' A/AAAA records in the additional section; when a server does not, the targets are
    // asked for directly: each distinct target once (its result shared by every record naming it), at most
    // MaxTargetLookups of them. A target that cannot be resolved keeps an empty address list (the SRV answer
    // itself is good), and the failure is logged.
    private async ValueTask<List<DnsServiceRecord>> ResolveTargetsAsync(string name, List<DnsServiceRecord> services, long start, CancellationToken cancellationToken)
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
            return (await ResolveAsync(service.Target, type, start, cancellationToken).ConfigureAwait(false)).Addresses;
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
