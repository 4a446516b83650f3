using System.Collections.Concurrent;
using CloudMapDiscovery.Api.Source;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Api.Tests.Source;

/// <summary>The API source's state per name follows the cache's eviction (IdleTimeout, MaxCachedNames), on a fake clock.</summary>
public sealed class ApiSourceEvictionTests : IAsyncDisposable
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(1);

    private readonly CloudMapApiTestServer _server = CloudMapApiTestServer.Start();
    private readonly ConcurrentQueue<HttpRequestMessage> _sent = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ServiceProvider _provider;

    public ApiSourceEvictionTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddSingleton(ApiFixture.Credentials);
        void Api(CloudMapApiOptions o)
        {
            o.Region = "eu-west-1";
            o.ServiceUrl = _server.ServiceUrl.ToString();
            o.MaxCallsPerSecond = 100_000; // the clock stands still while 2,000 names are asked for
        }

        services.AddHttpClient("short").AddCloudMapDiscovery(o => { o.IdleTimeout = IdleTimeout; o.MaxCachedNames = 100; })
            .UseCloudMapApi(Api).ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler(_sent));
        services.AddHttpClient("long").AddCloudMapDiscovery(o => o.IdleTimeout = IdleTimeout * 5)
            .UseCloudMapApi(Api).ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler(_sent));
        _provider = services.BuildServiceProvider();
    }

    private ApiEndpointSource Source => (ApiEndpointSource)_provider.GetRequiredService<ICloudMapEndpointSourceFactory>().Create("short");

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Api_source_state_stays_bounded_by_the_cache_over_2000_one_off_names_and_is_dropped_when_they_idle()
    {
        var client = Client("short");
        for (var i = 0; i < 2_000; i++)
        {
            _server.RegisterInstance("internal", $"one-off-{i}", "task-2", ApiFixture.Ecs("127.0.0.2", 80));
            using var response = await client.GetAsync(new Uri($"http://one-off-{i}.internal/"), TestContext.Current.CancellationToken);
            response.EnsureSuccessStatusCode();
        }

        Source.NameCount.Should().BeInRange(1, 100, "names over MaxCachedNames are evicted with their API state");

        Advance(IdleTimeout + TimeSpan.FromSeconds(5));

        Source.NameCount.Should().Be(0, "idle names are evicted with their API state");
    }

    [Fact]
    public async Task Api_source_name_evicted_then_asked_for_again_is_read_afresh_and_served()
    {
        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.2", 80));
        var client = Client("short");
        using (await client.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken))
        {
        }

        Advance(IdleTimeout + TimeSpan.FromSeconds(5));
        Source.NameCount.Should().Be(0);
        _server.RegisterInstance("internal", "api", "task-3", ApiFixture.Ecs("127.0.0.3", 80));
        var fulls = _server.GetCallCount("DiscoverInstances");
        _sent.Clear();

        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);
            response.EnsureSuccessStatusCode();
        }

        _server.GetCallCount("DiscoverInstances").Should().Be(fulls + 1, "a name tracked again starts with no revision in hand");
        _sent.Select(r => r.RequestUri!.Host).Distinct().Should().BeEquivalentTo("127.0.0.2", "127.0.0.3");
        Source.NameCount.Should().Be(1);
    }

    [Fact]
    public async Task Api_source_name_shared_by_two_caches_is_kept_until_the_last_one_evicts_it()
    {
        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.2", 80));
        var shortLived = Client("short");
        var longLived = Client("long");
        using (await shortLived.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken))
        using (await longLived.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken))
        {
        }

        // The long-lived client keeps using the name for two minutes: the short one's cache evicts it meanwhile.
        for (var i = 0; i < 24; i++)
        {
            Advance(TimeSpan.FromSeconds(5));
            using var response = await longLived.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);
        }

        Source.NameCount.Should().Be(1, "the long-lived client's cache still tracks the name");

        Advance(IdleTimeout * 5 + TimeSpan.FromSeconds(5));
        Source.NameCount.Should().Be(0, "no cache tracks the name any more");

        using var again = await longLived.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);
        again.EnsureSuccessStatusCode();
        Source.NameCount.Should().Be(1);
    }

    private HttpClient Client(string name) => _provider.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    // The sweeper runs once a second on the fake clock.
    private void Advance(TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromSeconds(1))
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
        }
    }
}
