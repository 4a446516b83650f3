using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns.Wire;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Dns;

/// <summary>The addresses of SRV targets that a reply left out, asked for directly.</summary>
/// <remarks>
/// Cloud Map puts the targets' A/AAAA records in the additional section; when a server does not, each distinct target
/// is asked for once, at most <see cref="DnsLimits.MaxTargetLookups"/> of them. A target whose lookup fails keeps an
/// empty address list with <see cref="DnsServiceRecord.TargetError"/> saying why (the SRV answer itself is good), and
/// the failure is logged. Every record gets its own copy of its target's addresses.
/// </remarks>
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

    /// <summary>
    /// <paramref name="services"/> with the addresses of their targets filled in where the reply left them out, kept
    /// within <see cref="DnsLimits.MaxRecords"/> endpoints like those the reply carried; <c>Limited</c> when records were dropped.
    /// </summary>
    public async ValueTask<(List<DnsServiceRecord> Services, bool Limited)> FillAsync(string name, List<DnsServiceRecord> services, long start, CancellationToken cancellationToken)
    {
        var lookups = new Dictionary<string, Task<(DnsAddressRecord[] Addresses, string? Error)>>(StringComparer.OrdinalIgnoreCase);
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
        var filled = new List<DnsServiceRecord>(services.Count);
        var endpoints = 0;
        foreach (var service in services)
        {
            var s = !NeedsAddresses(service) ? service
                : lookups.TryGetValue(service.Target, out var found) ? service with { Addresses = found.Result.Addresses, TargetError = found.Result.Error }
                : service with { TargetError = $"not looked up: more than {DnsLimits.MaxTargetLookups} targets came without addresses" };
            if ((endpoints += Math.Max(1, s.Addresses.Count)) > DnsLimits.MaxRecords)
            {
                return (filled, true);
            }

            // Records naming one target share its lookup; each gets its own array.
            filled.Add(ReferenceEquals(s, service) || s.Addresses.Count == 0 ? s : s with { Addresses = [.. s.Addresses] });
        }

        return (filled, false);
    }

    private async Task<(DnsAddressRecord[] Addresses, string? Error)> TargetAddressesAsync(DnsServiceRecord service, long start, CancellationToken cancellationToken)
    {
        // A and AAAA separately: one family failing must not lose the other's addresses.
        var families = await Task.WhenAll(FamilyAsync(DnsRecordType.A), FamilyAsync(DnsRecordType.AAAA)).ConfigureAwait(false);
        DnsAddressRecord[] addresses = [.. families.SelectMany(f => f.Addresses)];

        // Without addresses, a family that failed may have had some: the target is unknown, not empty.
        var errors = families.Select(f => f.Error).OfType<string>().ToList();
        return (addresses, addresses.Length > 0 || errors.Count == 0 ? null : string.Join(" ", errors));

        async Task<(IReadOnlyList<DnsAddressRecord> Addresses, string? Error)> FamilyAsync(DnsRecordType type)
        {
            try
            {
                return ((await _resolve(service.Target, type, start, cancellationToken).ConfigureAwait(false)).Addresses, null);
            }
            catch (DnsResolutionException ex)
            {
                Log.DnsServiceTargetFailed(_logger, service.Target, service.Name, ex.Message);
                return ([], ex.Message);
            }
        }
    }

    // RFC 2782: a target of "." (read as "") means the service is decidedly not available; there is nothing to ask.
    private static bool NeedsAddresses(DnsServiceRecord service) => service.Addresses.Count == 0 && service.Target.Length > 0;
}
