using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudMapDiscovery.Discovery;

/// <summary>
/// The process-wide owner of endpoint caches (a DI singleton): clients whose DNS, cache and ejection settings
/// are equal share one cache; clients that differ get their own. Nothing here is created per handler, so
/// IHttpClientFactory's handler rotation leaks nothing.
/// </summary>
internal sealed class EndpointCacheRegistry : ICloudMapDiscoveryDiagnostics, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<EndpointCache>> _caches = new();
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Func<CloudMapDiscoveryOptions, IDnsResolver>? _resolverFactory;

    public EndpointCacheRegistry(TimeProvider? clock = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null, Func<CloudMapDiscoveryOptions, IDnsResolver>? resolverFactory = null)
    {
        _clock = clock ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _resolverFactory = resolverFactory;
        Metrics = new CloudMapMetrics(meterFactory);
        Metrics.ObserveEndpoints(GetSnapshot);
    }

    public CloudMapMetrics Metrics { get; }

    public int CacheCount => _caches.Count;

    public EndpointCache GetCache(CloudMapDiscoveryOptions options)
        => _caches.GetOrAdd(ProfileKey(options), _ => new Lazy<EndpointCache>(() => Create(options))).Value;

    public IReadOnlyList<ServiceSnapshot> GetSnapshot()
        => _caches.Values.Where(l => l.IsValueCreated).SelectMany(l => l.Value.Entries).Select(e => e.Snapshot()).OrderBy(s => s.Host, StringComparer.Ordinal).ToArray();

    private EndpointCache Create(CloudMapDiscoveryOptions options)
    {
        IDnsResolver resolver;
        if (_resolverFactory is not null)
        {
            resolver = _resolverFactory(options);
        }
        else
        {
            var dnsOptions = new DnsResolverOptions { Timeout = options.DnsTimeout, Attempts = options.DnsAttempts };
            foreach (var s in options.NameServers)
            {
                dnsOptions.NameServers.Add(s);
            }

            var dns = new DnsResolver(dnsOptions, _clock, _loggerFactory.CreateLogger<DnsResolver>());
            dns.QueryCompleted += (result, error) =>
                Metrics.DnsQuery(result?.ResponseCode.ToString() ?? "Error", result?.Elapsed ?? TimeSpan.Zero);
            resolver = dns;
        }

        return new EndpointCache(Snapshot(options), resolver, _clock, Metrics, _loggerFactory.CreateLogger("CloudMapDiscovery"));
    }

    // The cache keeps its own copy: options objects are mutable and shared with configuration reloads.
    private static CloudMapDiscoveryOptions Snapshot(CloudMapDiscoveryOptions o)
    {
        var copy = new CloudMapDiscoveryOptions
        {
            DnsTimeout = o.DnsTimeout,
            DnsAttempts = o.DnsAttempts,
            MinTtl = o.MinTtl,
            MaxTtl = o.MaxTtl,
            MaxStale = o.MaxStale,
            NegativeTtlCap = o.NegativeTtlCap,
            IdleTimeout = o.IdleTimeout,
            MergeMultiValueAnswers = o.MergeMultiValueAnswers,
            MultiValueAnswerLimit = o.MultiValueAnswerLimit,
            MultiValueRetention = o.MultiValueRetention,
            ConsecutiveConnectFailures = o.ConsecutiveConnectFailures,
            ConsecutiveFailures = o.ConsecutiveFailures,
            BaseEjectionTime = o.BaseEjectionTime,
            MaxEjectionTime = o.MaxEjectionTime,
            EjectOnGatewayErrors = o.EjectOnGatewayErrors,
        };
        foreach (var s in o.NameServers)
        {
            copy.NameServers.Add(s);
        }

        return copy;
    }

    private static string ProfileKey(CloudMapDiscoveryOptions o) => string.Join(
        '|',
        string.Join(',', o.NameServers),
        o.DnsTimeout,
        o.DnsAttempts,
        o.MinTtl,
        o.MaxTtl,
        o.MaxStale,
        o.NegativeTtlCap,
        o.IdleTimeout,
        o.MergeMultiValueAnswers,
        o.MultiValueAnswerLimit,
        o.MultiValueRetention,
        o.ConsecutiveConnectFailures,
        o.ConsecutiveFailures,
        o.BaseEjectionTime,
        o.MaxEjectionTime,
        o.EjectOnGatewayErrors);

    public void Dispose()
    {
        foreach (var l in _caches.Values)
        {
            if (l.IsValueCreated)
            {
                l.Value.Dispose();
            }
        }

        _caches.Clear();
        Metrics.Dispose();
    }
}
