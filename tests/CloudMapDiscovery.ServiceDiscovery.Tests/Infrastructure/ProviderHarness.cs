using System.Globalization;
using System.Net;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.ServiceDiscovery;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure;

/// <summary>
/// <c>AddServiceDiscovery().AddCloudMapServiceEndpointProvider()</c> in a service provider on a manual clock (which
/// Microsoft.Extensions.ServiceDiscovery's own timers use too), pointed at an in-process <see cref="DnsTestServer"/>
/// for the zone <c>internal</c>, with <c>HostSuffixes = internal</c>.
/// </summary>
internal sealed class ProviderHarness : IAsyncDisposable
{
    public const string Host = "name.internal";

    private ProviderHarness(DnsTestServer server, FakeTimeProvider clock, ServiceProvider services)
    {
        Server = server;
        Clock = clock;
        Services = services;
    }

    public DnsTestServer Server { get; }

    public FakeTimeProvider Clock { get; }

    public ServiceProvider Services { get; }

    /// <summary>Microsoft.Extensions.ServiceDiscovery's resolver (what YARP's destination resolver uses).</summary>
    public ServiceEndpointResolver Resolver => Services.GetRequiredService<ServiceEndpointResolver>();

    public DiscoveryRegistry Registry => Services.GetRequiredService<DiscoveryRegistry>();

    public CloudMapServiceEndpointProviderFactory Factory =>
        Services.GetServices<IServiceEndpointProviderFactory>().OfType<CloudMapServiceEndpointProviderFactory>().Single();

    public int AQueries => Server.GetQueryCount(Host, Dns.DnsRecordType.A);

    public static async Task<ProviderHarness> StartAsync(Action<CloudMapDiscoveryOptions>? configure = null, IDictionary<string, string?>? configuration = null)
    {
        var server = await DnsTestServer.StartAsync();
        var clock = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration ?? new Dictionary<string, string?>()).Build());
        services.AddServiceDiscovery().AddCloudMapServiceEndpointProvider(o =>
        {
            o.NameServers.Add(server.EndPoint.ToString());
            o.DnsAttempts = 1;
            o.DnsTimeout = TimeSpan.FromSeconds(2);
            o.HostSuffixes.Add("internal");

            // The provider's background checks off: these tests are about DNS, and whatever else on this machine listens
            // on 127.0.0.x would decide their sets. Health-check tests turn them back on.
            o.ProbeEjectedEndpoints = false;
            configure?.Invoke(o);
        });
        return new ProviderHarness(server, clock, services.BuildServiceProvider());
    }

    /// <summary>127.0.0.<paramref name="n"/> (record data only; never dialled unless a test turns the checks back on).</summary>
    public static IPAddress Ip(int n) => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{n}"));

    public void SetAddresses(TimeSpan ttl, params int[] n) => Server.SetAddresses("name", ttl, [.. n.Select(Ip)]);

    public static string[] Texts(ServiceEndpointSource source) => [.. source.Endpoints.Select(e => e.EndPoint.ToString()!).Order(StringComparer.Ordinal)];

    public bool TryGetEntry(out DiscoveredService? entry, string host = Host, DiscoveryRecordTypes types = DiscoveryRecordTypes.A)
    {
        entry = null;
        return Registry.Caches.SingleOrDefault() is { } cache && cache.TryGetService(host, types, out entry);
    }

    /// <summary>Moves the clock in steps (each firing the cache's 1 s sweeper when due) and waits for every refresh in flight after each.</summary>
    public Task AdvanceAsync(TimeSpan by, TimeSpan? step = null, Func<Task>? between = null)
        => AdvanceAsync(Clock, Registry, by, step ?? TimeSpan.FromSeconds(1), between);

    /// <summary>
    /// Moves <paramref name="clock"/> forward by <paramref name="by"/> in steps of <paramref name="step"/>; after each
    /// step, waits for every DNS refresh in flight in <paramref name="registry"/>, then runs <paramref name="between"/>.
    /// </summary>
    public static async Task AdvanceAsync(FakeTimeProvider clock, DiscoveryRegistry registry, TimeSpan by, TimeSpan step, Func<Task>? between = null)
    {
        for (var left = by; left > TimeSpan.Zero; left -= step)
        {
            clock.Advance(left < step ? left : step);
            await SettleAsync(registry);
            if (between is not null)
            {
                await between();
            }
        }
    }

    /// <summary>Waits for every refresh in flight in every cache of <paramref name="registry"/>.</summary>
    public static async Task SettleAsync(DiscoveryRegistry registry)
    {
        foreach (var entry in registry.Caches.SelectMany(c => c.Services))
        {
            while (entry.PendingRefresh is { IsCompleted: false } pending)
            {
                await pending.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>What a Microsoft.Extensions.ServiceDiscovery watcher hands each provider in turn.</summary>
internal sealed class TestEndpointBuilder : IServiceEndpointBuilder
{
    public IList<ServiceEndpoint> Endpoints { get; } = [];

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public List<IChangeToken> ChangeTokens { get; } = [];

    public void AddChangeToken(IChangeToken changeToken) => ChangeTokens.Add(changeToken);
}
