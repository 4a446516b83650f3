using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Shared;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Api.Tests.Zones;

/// <summary>
/// Loopback Kestrel tasks (127.0.0.2, ...) registered in the Cloud Map fake with a zone each, and an HttpClient that
/// discovers them through the API source on a fake clock; the caller's zone comes from options or a metadata fake.
/// </summary>
internal sealed class ZoneRig : IAsyncDisposable
{
    public const string Host = "api.internal";
    private readonly int[] _hits;
    private ServiceProvider? _provider;

    private ZoneRig(int count)
    {
        _hits = new int[count];
    }

    public CloudMapApiTestServer Api { get; } = CloudMapApiTestServer.Start();

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public LoopbackTasks Tasks { get; private set; } = null!;

    public string[] Zones { get; private set; } = [];

    public int Failed { get; private set; }

    public int Hits(int task) => Volatile.Read(ref _hits[task]);

    public int HitsIn(string zone) => Enumerable.Range(0, _hits.Length).Where(i => Zones[i] == zone).Sum(Hits);

    public void ResetHits() => Array.Clear(_hits);

    /// <summary>Tasks in the zones given, one per entry (task i at 127.0.0.(i+2)), each with <c>extra</c> attributes.</summary>
    public static async Task<ZoneRig> StartAsync(string[] zones, Func<int, Dictionary<string, string>, Dictionary<string, string>>? attributes = null)
    {
        var rig = new ZoneRig(zones.Length) { Zones = zones };
        rig.Tasks = await LoopbackTasks.StartAsync(zones.Length, HttpProtocols.Http1, null, (_, _) => { }, (app, index) => app.Run(context =>
        {
            Interlocked.Increment(ref rig._hits[index]);
            return context.Response.WriteAsync("ok");
        }));
        for (var i = 0; i < zones.Length; i++)
        {
            var ecs = ApiFixture.Ecs(LoopbackTasks.Address(i).ToString(), rig.Tasks.Port, zones[i]);
            rig.Api.RegisterInstance("internal", "api", $"task-{i}", attributes?.Invoke(i, ecs) ?? ecs);
        }

        return rig;
    }

    public IServiceProvider Provider => _provider ?? throw new InvalidOperationException("Call Client first.");

    /// <summary>The client (built once): options as given, the caller's zone detected from <paramref name="detector"/> when given.</summary>
    public HttpClient Client(Action<CloudMapDiscoveryOptions>? options = null, ZoneDetectorSettings? detector = null, Action<CloudMapApiOptions>? api = null)
    {
        if (_provider is null)
        {
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(Clock);
            services.AddSingleton(ApiFixture.Credentials);
            services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
            if (detector is not null)
            {
                services.AddSingleton(sp => new CallerZone(detector, sp.GetRequiredService<CloudMapContext>()));
            }

            services.AddHttpClient("api").AddCloudMapDiscovery(o => options?.Invoke(o))
                .UseCloudMapApi(o => { o.Region = "eu-west-1"; o.ServiceUrl = Api.ServiceUrl.ToString(); api?.Invoke(o); });
            _provider = services.BuildServiceProvider();
        }

        return _provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
    }

    /// <summary>Sends <paramref name="count"/> requests, counting the ones that fail.</summary>
    public async Task SendAsync(HttpClient client, int count)
    {
        for (var i = 0; i < count; i++)
        {
            try
            {
                using var response = await client.GetAsync(new Uri($"http://{Host}:{Tasks.Port}/"), TestContext.Current.CancellationToken);
                response.EnsureSuccessStatusCode();
            }
            catch (HttpRequestException)
            {
                Failed++;
            }
        }
    }

    public ServiceSnapshot Snapshot() => Provider.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().Single(s => s.Host == Host);

    public IReadOnlyList<FakeLogRecord> Logs() => Provider.GetFakeLogCollector().GetSnapshot();

    public async ValueTask DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await Tasks.DisposeAsync();
        await Api.DisposeAsync();
    }
}
