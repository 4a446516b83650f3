using System.Diagnostics.Metrics;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>The library's shared state as DI builds it (context, resolution and balancer registries), for tests that work below the handler.</summary>
internal sealed class Registries : IDisposable
{
    public Registries(TimeProvider clock, ILoggerFactory? logs = null, IMeterFactory? meters = null, Func<DnsSettings, IDnsResolver>? resolverFactory = null)
    {
        Context = new CloudMapContext(clock, logs, meters);
        Resolutions = new DiscoveryRegistry(Context, resolverFactory);
        Balancers = new BalancerRegistry(Resolutions);
    }

    public CloudMapContext Context { get; }

    public DiscoveryRegistry Resolutions { get; }

    public BalancerRegistry Balancers { get; }

    public int CacheCount => Resolutions.CacheCount;

    public CloudMapMetrics Metrics => Context.Metrics;

    public static CloudMapSettings Settings(CloudMapDiscoveryOptions options) => CloudMapSettings.From(options);

    /// <summary>The resolution cache for these options' discovery settings.</summary>
    public DiscoveryPartition GetCache(CloudMapDiscoveryOptions options) => Resolutions.GetCache(Settings(options).Discovery);

    /// <summary>The balancer cache for these options' discovery and balancing settings.</summary>
    public BalancingPartition GetBalancers(CloudMapDiscoveryOptions options)
    {
        var settings = Settings(options);
        return Balancers.GetCache(settings.Discovery, settings.Balancing);
    }

    public IReadOnlyList<ServiceSnapshot> GetSnapshot() => Balancers.Diagnostics.GetSnapshot();

    public void Dispose()
    {
        Balancers.Dispose();
        Resolutions.Dispose();
        Context.Dispose();
    }
}
