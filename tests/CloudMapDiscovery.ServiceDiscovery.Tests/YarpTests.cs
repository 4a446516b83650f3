using System.Net;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.ServiceDiscovery.Tests;

/// <summary>
/// YARP with Microsoft.Extensions.ServiceDiscovery.Yarp's destination resolver over this provider: a cluster whose one
/// destination is <c>http://name.internal:port</c> becomes one destination per task address in BIND, and follows
/// changes to the records, also after the resolver's watcher for the name has gone idle.
/// </summary>
[Collection(BindCollectionDefinition.Name)]
public sealed class YarpTests
{
    private readonly BindServer _bind;
    private readonly ITestOutputHelper _output;

    public YarpTests(BindServer bind, ITestOutputHelper output)
    {
        _bind = bind;
        _output = output;
    }

    [Fact]
    public async Task Yarp_sends_to_every_task_in_dns_and_follows_a_record_change()
    {
        BindServer.SkipIfUnavailable();
        var hits = new int[3];
        var hosts = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var tasks = await LoopbackTasks.StartAsync(3, HttpProtocols.Http1, null, (_, _) => { }, (app, index) => app.Run(context =>
        {
            Interlocked.Increment(ref hits[index]);
            hosts.Enqueue(context.Request.Host.ToString());
            return context.Response.WriteAsync(index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }));
        var name = $"yarp-{Guid.NewGuid():N}"[..13] + ".internal";
        await _bind.AddRecordAsync(name, 0, "A", tasks.Addresses[0].ToString());
        await _bind.AddRecordAsync(name, 0, "A", tasks.Addresses[1].ToString());

        var clock = new FakeTimeProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddServiceDiscovery().AddCloudMapServiceEndpointProvider(o =>
        {
            o.NameServers.Add(_bind.NameServer);
            o.HostSuffixes.Add("internal");
        });
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                [new RouteConfig { RouteId = "all", ClusterId = "name", Match = new RouteMatch { Path = "{**rest}" } }],
                [new ClusterConfig
                {
                    ClusterId = "name",
                    Destinations = new Dictionary<string, DestinationConfig> { ["tasks"] = new() { Address = $"http://{name}:{tasks.Port}/" } },
                }])
            .AddServiceDiscoveryDestinationResolver();
        await using var proxy = builder.Build();
        proxy.MapReverseProxy();
        await proxy.StartAsync(TestContext.Current.CancellationToken);
        var address = proxy.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        var registry = proxy.Services.GetRequiredService<DiscoveryRegistry>();

        for (var i = 0; i < 40; i++)
        {
            (await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        hits[0].Should().BeGreaterThan(0);
        hits[1].Should().BeGreaterThan(0);
        hits[2].Should().Be(0);
        _output.WriteLine($"Host header YARP sent: {hosts.First()}");

        // Half a minute without a resolution: Microsoft.Extensions.ServiceDiscovery drops its watcher of the name (and so
        // this provider), while YARP keeps the change token of its last resolution. Then task 2 registers.
        await ProviderHarness.AdvanceAsync(clock, registry, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        registry.Caches.Single().TryGetService(name, DiscoveryRecordTypes.A, out var entry).Should().BeTrue();
        entry!.IsHeld.Should().BeFalse("the resolver's idle watcher was disposed with its provider");
        await _bind.AddRecordAsync(name, 0, "A", tasks.Addresses[2].ToString());
        await ProviderHarness.AdvanceAsync(clock, registry, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(1));

        // YARP reloads its configuration in the background once the token fires: poll with requests until it has.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (hits[2] == 0)
        {
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "YARP must pick up the task registered later");
            (await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }
    }
}
