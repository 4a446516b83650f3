using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Discovery;

/// <summary>Asks DNS for a service's endpoints: A, AAAA or both in parallel, or SRV with the targets' addresses.</summary>
internal sealed class DnsServiceSource
{
    private readonly IDnsResolver _resolver;

    public DnsServiceSource(IDnsResolver resolver)
    {
        _resolver = resolver;
    }

    public async Task<ServiceResolution> ResolveAsync(ServiceKey key, CancellationToken cancellationToken)
    {
        switch (key.RecordTypes)
        {
            case DiscoveryRecordTypes.Srv:
                return FromSrv(await _resolver.QueryAsync(key.Host, DnsRecordType.SRV, cancellationToken).ConfigureAwait(false));
            case DiscoveryRecordTypes.AAndAaaa:
                var v4 = _resolver.QueryAsync(key.Host, DnsRecordType.A, cancellationToken).AsTask();
                var v6 = _resolver.QueryAsync(key.Host, DnsRecordType.AAAA, cancellationToken).AsTask();
                await Task.WhenAll(v4, v6).ConfigureAwait(false);
                return Combine(await v4.ConfigureAwait(false), await v6.ConfigureAwait(false));
            case DiscoveryRecordTypes.Aaaa:
                return FromAddresses(await _resolver.QueryAsync(key.Host, DnsRecordType.AAAA, cancellationToken).ConfigureAwait(false));
            default:
                return FromAddresses(await _resolver.QueryAsync(key.Host, DnsRecordType.A, cancellationToken).ConfigureAwait(false));
        }
    }

    private static ServiceResolution FromAddresses(DnsQueryResult r)
        => new(r.Addresses.Select(a => new ResolvedAddress(a.Address, null, a.Ttl)).ToArray(), r.Ttl, Negative(r), Describe(r));

    private static ServiceResolution Combine(DnsQueryResult v4, DnsQueryResult v6)
    {
        var all = v4.Addresses.Concat(v6.Addresses).Select(a => new ResolvedAddress(a.Address, null, a.Ttl)).ToArray();
        TimeSpan? ttl = all.Length > 0
            ? Min(v4.IsNegative ? null : v4.Ttl, v6.IsNegative ? null : v6.Ttl)
            : Min(v4.Ttl, v6.Ttl);
        return new ServiceResolution(all, ttl, all.Length == 0 ? Negative(v4) : null, Describe(v4));
    }

    // An SRV record whose target has no address cannot be called; it is left out. Of the rest, only the lowest
    // priority is used (RFC 2782: higher values are fallbacks); Cloud Map gives every record priority 1.
    private static ServiceResolution FromSrv(DnsQueryResult r)
    {
        var callable = r.Services.Where(s => s.Addresses.Count > 0).ToList();
        var best = callable.Count == 0 ? 0 : callable.Min(s => s.Priority);
        var all = callable
            .Where(s => s.Priority == best)
            .SelectMany(s => s.Addresses.Select(a => new ResolvedAddress(a.Address, s.Port, a.Ttl < s.Ttl ? a.Ttl : s.Ttl)))
            .ToArray();
        var reason = all.Length == 0 && r.Services.Count > 0 ? $"SRV records of {r.Name} name targets without addresses" : Negative(r);
        return new ServiceResolution(all, r.Ttl, all.Length == 0 ? reason : null, Describe(r));
    }

    private static string? Negative(DnsQueryResult r) => r.IsNegative
        ? (r.ResponseCode == DnsResponseCode.NXDomain ? $"NXDOMAIN for {r.CanonicalName} from {r.Server}" : $"no {r.Type} records for {r.CanonicalName} (NODATA) from {r.Server}")
        : null;

    private static string Describe(DnsQueryResult r) => $"{r.Server} over {(r.Transport == DnsTransport.Tcp ? "TCP" : "UDP")}";

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);
}
