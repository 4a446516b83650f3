using System.Globalization;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Discovery;

/// <summary>Asks DNS for a service's endpoints: A, AAAA or both in parallel, or SRV with the targets' addresses.</summary>
/// <remarks>
/// With both families, one failing (SERVFAIL, timeouts, a broken reply) keeps the other's addresses, as the SRV
/// target lookup does; only when both fail, or one fails and the other says "no records", does the lookup fail,
/// naming both. Once one family has answered with addresses, the other gets <see cref="FamilyGrace"/> more: as
/// long again as the first took, and at least 50 ms (RFC 8305's resolution delay for the same race). Both
/// questions go to the same server at the same moment, so a healthy server answers the second within about the
/// time it took for the first; one that has not by then has almost always lost a datagram, and waiting for it
/// means waiting out the whole DNS timeout (and, with more attempts, several) while the addresses in hand could
/// be served. The late family is asked again at the next refresh.
/// </remarks>
internal sealed class DnsServiceSource : IEndpointSource
{
    /// <summary>The least time the second family gets after the first has answered with addresses.</summary>
    public static readonly TimeSpan MinFamilyGrace = TimeSpan.FromMilliseconds(50);

    private readonly IDnsResolver _resolver;
    private readonly TimeProvider _clock;

    /// <param name="resolver">The resolver.</param>
    /// <param name="clock">The clock of the grace wait (the resolver's, so that its timeouts and the wait agree).</param>
    public DnsServiceSource(IDnsResolver resolver, TimeProvider clock)
    {
        _resolver = resolver;
        _clock = clock;
    }

    /// <summary>DNS keeps nothing per name: there is nothing to let go of.</summary>
    public IDisposable Track(ServiceKey key) => NothingTracked.Instance;

    public async Task<SourceAnswer> ResolveAsync(ServiceKey key, CancellationToken cancellationToken)
    {
        switch (key.RecordTypes)
        {
            case DiscoveryRecordTypes.Srv:
                return FromSrv(await _resolver.QueryAsync(key.Host, DnsRecordType.SRV, cancellationToken).ConfigureAwait(false));
            case DiscoveryRecordTypes.AAndAaaa:
                return await BothFamiliesAsync(key.Host, cancellationToken).ConfigureAwait(false);
            case DiscoveryRecordTypes.Aaaa:
                return FromAddresses(await _resolver.QueryAsync(key.Host, DnsRecordType.AAAA, cancellationToken).ConfigureAwait(false));
            default:
                return FromAddresses(await _resolver.QueryAsync(key.Host, DnsRecordType.A, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>How long the second family is waited for once the first has answered with addresses after <paramref name="firstTook"/>.</summary>
    public static TimeSpan FamilyGrace(TimeSpan firstTook) => firstTook > MinFamilyGrace ? firstTook : MinFamilyGrace;

    private async Task<SourceAnswer> BothFamiliesAsync(string host, CancellationToken cancellationToken)
    {
        using var queries = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var start = _clock.GetTimestamp();
        var v4 = AskAsync(host, DnsRecordType.A, queries.Token, cancellationToken);
        var v6 = AskAsync(host, DnsRecordType.AAAA, queries.Token, cancellationToken);
        var firstTask = await Task.WhenAny(v4, v6).ConfigureAwait(false);
        var first = await firstTask.ConfigureAwait(false);
        var secondTask = firstTask == v4 ? v6 : v4;
        Family second;
        if (first.Result is { IsNegative: false } && !secondTask.IsCompleted)
        {
            var grace = FamilyGrace(_clock.GetElapsedTime(start));
            try
            {
                second = await secondTask.WaitAsync(grace, _clock, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Not waited for any longer; the abandoned query ends (cancelled) on its own, its outcome unobserved.
                await queries.CancelAsync().ConfigureAwait(false);
                second = new Family(secondTask == v4 ? DnsRecordType.A : DnsRecordType.AAAA, null, null, grace);
            }
        }
        else
        {
            second = await secondTask.ConfigureAwait(false);
        }

        var (a, aaaa) = first.Type == DnsRecordType.A ? (first, second) : (second, first);
        return Combine(host, a, aaaa);
    }

    // Every outcome but the caller's own cancellation is kept as a value, so that one family cannot throw the other away.
    private async Task<Family> AskAsync(string host, DnsRecordType type, CancellationToken queryToken, CancellationToken cancellationToken)
    {
        try
        {
            return new Family(type, await _resolver.QueryAsync(host, type, queryToken).ConfigureAwait(false), null, null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new Family(type, null, ex, null);
        }
    }

    private static SourceAnswer Combine(string host, Family a, Family aaaa)
    {
        if (a.Result is { } v4 && aaaa.Result is { } v6)
        {
            return Combine(v4, v6);
        }

        var answered = a.Result is not null ? a : aaaa;
        var missing = a.Result is not null ? aaaa : a;
        if (answered.Result is { IsNegative: false } result)
        {
            var resolution = FromAddresses(result);
            return resolution with { Source = $"{resolution.Source}; {missing.Describe()}" };
        }

        // "No records" from one family says nothing about the other: without its answer there is nothing to believe,
        // and a failure lets the cache serve its last good answer instead of caching "no instances".
        var attempts = (IReadOnlyList<DnsServerAttempt>)[.. Attempts(a), .. Attempts(aaaa)];
        var message = string.Create(CultureInfo.InvariantCulture, $"DNS lookup of {host} (A and AAAA) failed: {a.Describe()}; {aaaa.Describe()}.");
        throw new DnsResolutionException(host, missing.Type, attempts, message, missing.Error);
    }

    private static IEnumerable<DnsServerAttempt> Attempts(Family family) => (family.Error as DnsResolutionException)?.Attempts ?? [];

    private static SourceAnswer FromAddresses(DnsQueryResult r)
        => new(r.Addresses.Select(a => Endpoint(a, null, null)).ToArray(), r.Ttl, Negative(r), Describe(r));

    private static SourceAnswer Combine(DnsQueryResult v4, DnsQueryResult v6)
    {
        var all = v4.Addresses.Concat(v6.Addresses).Select(a => Endpoint(a, null, null)).ToArray();
        TimeSpan? ttl = all.Length > 0
            ? Min(v4.IsNegative ? null : v4.Ttl, v6.IsNegative ? null : v6.Ttl)
            : Min(v4.Ttl, v6.Ttl);
        return new SourceAnswer(all, ttl, all.Length == 0 ? Negative(v4) : null, Describe(v4));
    }

    // An SRV record whose target has no address cannot be called; it is left out. Of the rest, only the lowest
    // priority is used (RFC 2782: higher values are fallbacks); Cloud Map gives every record priority 1. A target
    // whose address lookup failed is not "no addresses": when every target of that priority failed, the lookup
    // fails (the cache serves its last good answer); when some did, the others' previous addresses are kept.
    private static SourceAnswer FromSrv(DnsQueryResult r)
    {
        var usable = r.Services.Where(s => s.Addresses.Count > 0 || s.TargetError is not null).ToList();
        var best = usable.Count == 0 ? 0 : usable.Min(s => s.Priority);
        var chosen = usable.Where(s => s.Priority == best).ToList();
        var all = chosen
            .SelectMany(s => s.Addresses.Select(a => Endpoint(a, s.Port, s.Target)))
            .ToArray();
        var unresolved = chosen.Where(s => s.TargetError is not null).ToList();
        if (all.Length == 0 && unresolved.Count > 0)
        {
            var failures = string.Join("; ", unresolved.Select(s => $"{s.Target}: {s.TargetError}").Distinct().Take(8));
            throw new DnsResolutionException(r.Name, DnsRecordType.SRV, [], $"DNS lookup of {r.Name} (SRV) found {unresolved.Count} target(s) and could resolve none of them: {failures}.", null);
        }

        var reason = all.Length == 0 && r.Services.Count > 0 ? $"SRV records of {r.Name} name targets without addresses" : Negative(r);
        return new SourceAnswer(all, r.Ttl, all.Length == 0 ? reason : null, Describe(r))
        {
            SrvRecordCount = r.Services.Count,
            UnresolvedTargets = unresolved.Select(s => s.Target).ToHashSet(StringComparer.OrdinalIgnoreCase),
        };
    }

    private static string? Negative(DnsQueryResult r) => r.IsNegative
        ? (r.ResponseCode == DnsResponseCode.NXDomain ? $"NXDOMAIN for {r.CanonicalName} from {r.Server}" : $"no {r.Type} records for {r.CanonicalName} (NODATA) from {r.Server}")
        : null;

    private static string Describe(DnsQueryResult r) => $"{r.Server} over {(r.Transport == DnsTransport.Tcp ? "TCP" : "UDP")}";

    private static DiscoveredEndpoint Endpoint(DnsAddressRecord a, int? port, string? target)
        => new(new EndpointAddress(a.Address, port), IsMerged: false) { Target = target };

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    /// <summary>One family's outcome: an answer, a failure, or no answer within the grace time.</summary>
    private sealed record Family(DnsRecordType Type, DnsQueryResult? Result, Exception? Error, TimeSpan? Abandoned)
    {
        public string Describe() => this switch
        {
            { Result: { } r } => Negative(r) ?? $"{Type}: {r.Addresses.Count} address(es)",
            { Abandoned: { } grace } => string.Create(CultureInfo.InvariantCulture, $"{Type}: no answer within {grace.TotalMilliseconds:0} ms of the other family's, not waited for"),
            _ => $"{Type}: {Error?.Message.TrimEnd('.')}",
        };
    }

    private sealed class NothingTracked : IDisposable
    {
        public static readonly NothingTracked Instance = new();

        public void Dispose()
        {
        }
    }
}
