using System.Collections.Concurrent;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The process-wide owner of resolution caches (a DI singleton): consumers whose <see cref="DiscoverySettings"/> are
/// equal share one cache, and so one query per name; consumers that differ get their own.
/// </summary>
/// <remarks>Nothing here is created per handler, so IHttpClientFactory's handler rotation leaks nothing.</remarks>
internal sealed class DiscoveryRegistry : IDisposable
{
    private readonly ConcurrentDictionary<DiscoverySettings, Lazy<DiscoveryPartition>> _caches = new();
    private readonly ConcurrentDictionary<DnsSettings, Lazy<DnsResolver>> _resolvers = new();
    private readonly Func<DnsSettings, IDnsResolver>? _resolverFactory;

    /// <param name="context">The clock, meter, loggers and shutdown token.</param>
    /// <param name="resolverFactory">Makes the resolver for a cache; by default a <see cref="DnsResolver"/> (tests substitute theirs).</param>
    public DiscoveryRegistry(CloudMapContext context, Func<DnsSettings, IDnsResolver>? resolverFactory = null)
    {
        Context = context;
        _resolverFactory = resolverFactory;
    }

    public CloudMapContext Context { get; }

    public int CacheCount => _caches.Count;

    /// <summary>The caches created so far.</summary>
    public IEnumerable<DiscoveryPartition> Caches => _caches.Values.Where(l => l.IsValueCreated).Select(l => l.Value);

    public DiscoveryPartition GetCache(DiscoverySettings settings)
        => _caches.GetOrAdd(settings, s => new Lazy<DiscoveryPartition>(() => Create(s))).Value;

    /// <summary>The resolver for <paramref name="settings"/>, one per distinct DNS settings, with the library's metrics.</summary>
    public DnsResolver GetDnsResolver(DnsSettings settings)
        => _resolvers.GetOrAdd(settings, s => new Lazy<DnsResolver>(() => CreateResolver(s))).Value;

    private DiscoveryPartition Create(DiscoverySettings settings)
    {
        if (settings.Source is { } source)
        {
            return new DiscoveryPartition(settings, new PluggedSource(source), Context);
        }

        var resolver = _resolverFactory?.Invoke(settings.Dns) ?? GetDnsResolver(settings.Dns);
        return new DiscoveryPartition(settings, new DnsServiceSource(resolver, Context.Clock), Context);
    }

    private DnsResolver CreateResolver(DnsSettings settings)
    {
        var options = new DnsResolverOptions { Timeout = settings.Timeout, Attempts = settings.Attempts };
        foreach (var server in settings.NameServers)
        {
            options.NameServers.Add(server);
        }

        var metrics = Context.Metrics;
        var dns = new DnsResolver(options, Context.Clock, Context.LoggerFactory.CreateLogger<DnsResolver>());
        dns.QueryCompleted += outcome => metrics.DnsQuery(
            DnsTelemetry.TypeName(outcome.Type),
            outcome.Result is { } result ? DnsTelemetry.ResponseCodeName(result.ResponseCode) : null,
            outcome.Error is { } error ? DnsTelemetry.ErrorType(error) : null,
            outcome.Elapsed);
        return dns;
    }

    public void Dispose()
    {
        foreach (var cache in Caches)
        {
            cache.Dispose();
        }

        _caches.Clear();
    }
}
