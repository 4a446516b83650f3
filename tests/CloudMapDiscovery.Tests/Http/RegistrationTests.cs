using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>AddCloudMapDiscovery(), options per named client and from configuration, the primary handler, handler rotation.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class RegistrationTests
{
    [Fact]
    public async Task Named_clients_with_different_MaxAttempts_behave_differently()
    {
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            services: (s, _) => s.AddHttpClient("once").AddCloudMapDiscovery(o =>
            {
                o.NameServers.Add(_.EndPoint.ToString());
                o.MaxAttempts = 1;
            }));
        using var retrying = h.CreateClient();
        using var once = h.CreateClient("once");

        h.Fleet.AbortNext = 1;
        var failing = () => once.GetStringAsync(h.Url("/flaky"));
        await failing.Should().ThrowAsync<HttpRequestException>();
        h.Fleet.TotalHits.Should().Be(1);

        h.Fleet.AbortNext = 1;
        await retrying.GetStringAsync(h.Url("/flaky"), TestContext.Current.CancellationToken);
        h.Fleet.TotalHits.Should().Be(3);
    }

    [Fact]
    public async Task Named_clients_with_different_HostSuffixes_discover_different_hosts()
    {
        var recorder = new RecordingHandler();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            services: (s, dns) => s.AddHttpClient("local-only")
                .ConfigurePrimaryHttpMessageHandler(() => recorder)
                .AddCloudMapDiscovery(o =>
                {
                    o.NameServers.Add(dns.EndPoint.ToString());
                    o.HostSuffixes.Add("local");
                }));

        using var all = h.CreateClient();
        using var localOnly = h.CreateClient("local-only");
        await all.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        await localOnly.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);

        h.Fleet.TotalHits.Should().Be(1);
        recorder.Seen.Should().ContainSingle().Which.Should().Be((h.Url(), (string?)null));
    }

    [Fact]
    public async Task Options_bind_from_the_CloudMapDiscovery_section_and_per_client_sections()
    {
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            services: (s, dns) =>
            {
                s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["CloudMapDiscovery:NameServers:0"] = dns.EndPoint.ToString(),
                    ["CloudMapDiscovery:MaxAttempts"] = "2",
                    ["CloudMapDiscovery:ConnectTimeout"] = "00:00:00.750",
                    ["CloudMapDiscovery:HostSuffixes:0"] = "internal",
                    ["CloudMapDiscovery:Clients:single:MaxAttempts"] = "1",
                    ["CloudMapDiscovery:Clients:single:HostSuffixes:0"] = "local",
                    ["CloudMapDiscovery:Clients:single:HostSuffixes:1"] = "internal",
                }).Build());
                s.AddHttpClient("single").AddCloudMapDiscovery();
                s.AddHttpClient("shared").AddCloudMapDiscovery();
            });
        var monitor = h.Services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>();

        var shared = monitor.Get("shared");
        shared.MaxAttempts.Should().Be(2);
        shared.ConnectTimeout.Should().Be(TimeSpan.FromMilliseconds(750));
        shared.NameServers.Should().Equal(h.NameServer);
        shared.HostSuffixes.Should().Equal("internal");
        var single = monitor.Get("single");
        single.MaxAttempts.Should().Be(1);
        single.HostSuffixes.Should().Equal(["local", "internal"], "a client's list replaces the shared one");
        single.NameServers.Should().Equal(h.NameServer);
        monitor.Get(DiscoveryHarness.Client).MaxAttempts.Should().Be(2, "a client's own Configure action runs after binding, and this one leaves MaxAttempts alone");

        using var singleClient = h.CreateClient("single");
        using var sharedClient = h.CreateClient("shared");
        h.Fleet.AbortNext = 1;
        await ((Func<Task>)(() => singleClient.GetStringAsync(h.Url("/flaky")))).Should().ThrowAsync<HttpRequestException>();
        h.Fleet.AbortNext = 1;
        await sharedClient.GetStringAsync(h.Url("/flaky"), TestContext.Current.CancellationToken);
        h.Fleet.TotalHits.Should().Be(3);
        PrimaryOf(h.Services, "shared").ConnectTimeout.Should().Be(TimeSpan.FromMilliseconds(750));
    }

    [Fact]
    public async Task LoadBalancer_comes_from_configuration_per_client()
    {
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            services: (s, dns) =>
            {
                s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["CloudMapDiscovery:Clients:ewma:LoadBalancer"] = "PeakEwma",
                    ["CloudMapDiscovery:Clients:ewma:NameServers:0"] = dns.EndPoint.ToString(),
                    ["CloudMapDiscovery:Clients:ewma:MaxTtl"] = "00:00:59", // its own balancer, apart from the client 'name'
                }).Build());
                s.AddHttpClient("ewma").AddCloudMapDiscovery();
            });
        using var roundRobin = h.CreateClient();
        await roundRobin.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.LatencyEstimate == null, "RoundRobin does not time requests");

        using var ewma = h.CreateClient("ewma");
        for (var i = 0; i < 4; i++)
        {
            await ewma.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        }

        var snapshots = h.Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().Where(s => s.Host == DiscoveryHarness.Host).ToList();
        snapshots.Should().HaveCount(2);
        snapshots.SelectMany(s => s.Endpoints).Should().Contain(e => e.LatencyEstimate > TimeSpan.Zero, "PeakEwma times each request to its response headers");
    }

    [Fact]
    public async Task Invalid_options_fail_with_an_OptionsValidationException_naming_the_property()
    {
        await using var h = await DiscoveryHarness.StartAsync(
            1,
            services: (s, _) =>
            {
                s.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["CloudMapDiscovery:Clients:bad-config:ConnectTimeout"] = "-00:00:01",
                }).Build());
                s.AddHttpClient("bad").AddCloudMapDiscovery(o => o.MaxAttempts = 0);
                s.AddHttpClient("bad-config").AddCloudMapDiscovery();
            });
        var factory = h.Services.GetRequiredService<IHttpClientFactory>();

        var bad = () => factory.CreateClient("bad");
        var badConfig = () => factory.CreateClient("bad-config");
        var startup = () => h.Services.GetRequiredService<IStartupValidator>().Validate();

        bad.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("MaxAttempts").And.Contain("'bad'");
        badConfig.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("ConnectTimeout").And.Contain("'bad-config'");
        var atStartup = Record.Exception(startup);
        atStartup.Should().BeOfType<OptionsValidationException>("one startup check covers every client").Which.Failures.Should()
            .Contain(f => f.Contains("MaxAttempts", StringComparison.Ordinal) && f.Contains("'bad'", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("ConnectTimeout", StringComparison.Ordinal) && f.Contains("'bad-config'", StringComparison.Ordinal));
        using var good = h.CreateClient();
        (await good.GetStringAsync(h.Url(), TestContext.Current.CancellationToken)).Should().Be("127.0.0.2");
    }

    [Fact]
    public async Task The_primary_SocketsHttpHandler_gets_the_connect_timeout_unless_one_was_chosen()
    {
        await using var h = await DiscoveryHarness.StartAsync(
            1,
            services: (s, dns) =>
            {
                s.AddHttpClient("default-timeout").AddCloudMapDiscovery();
                s.AddHttpClient("short").AddCloudMapDiscovery(o => o.ConnectTimeout = TimeSpan.FromMilliseconds(700));
                s.AddHttpClient("none").AddCloudMapDiscovery(o => o.ConnectTimeout = null);
                s.AddHttpClient("user-chosen")
                    .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(7) })
                    .AddCloudMapDiscovery();
                s.AddHttpClient("user-chosen-after")
                    .AddCloudMapDiscovery()
                    .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(8) });
            });

        PrimaryOf(h.Services, "default-timeout").ConnectTimeout.Should().Be(TimeSpan.FromSeconds(2));
        PrimaryOf(h.Services, "short").ConnectTimeout.Should().Be(TimeSpan.FromMilliseconds(700));
        PrimaryOf(h.Services, "none").ConnectTimeout.Should().Be(Timeout.InfiniteTimeSpan);
        PrimaryOf(h.Services, "user-chosen").ConnectTimeout.Should().Be(TimeSpan.FromSeconds(7));
        PrimaryOf(h.Services, "user-chosen-after").ConnectTimeout.Should().Be(TimeSpan.FromSeconds(8));
        PrimaryOf(h.Services, DiscoveryHarness.Client).ConnectTimeout.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task AddCloudMapDiscoveryToAllHttpClients_turns_discovery_on_for_every_client()
    {
        await using var fleet = await TaskFleet.StartAsync(2);
        await using var dns = await DnsTestServer.StartAsync("internal", cancellationToken: TestContext.Current.CancellationToken);
        dns.SetAddresses("name", DiscoveryHarness.RecordTtl, fleet.Addresses);
        var services = new ServiceCollection();
        services.AddHttpClient();
        services.AddCloudMapDiscoveryToAllHttpClients(o => o.NameServers.Add(dns.EndPoint.ToString()));
        services.AddHttpClient("own-primary").ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(9) });
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using var unnamed = factory.CreateClient();
        using var named = factory.CreateClient("anything");
        var url = new Uri($"http://name.internal:{fleet.Port}/");
        var answers = new[] { await unnamed.GetStringAsync(url, TestContext.Current.CancellationToken), await named.GetStringAsync(url, TestContext.Current.CancellationToken), await named.GetStringAsync(new Uri($"http://127.0.0.3:{fleet.Port}/"), TestContext.Current.CancellationToken) };

        answers.Take(2).Should().BeEquivalentTo(fleet.Addresses.Select(a => a.ToString()), "both clients share one endpoint cache and its round robin");
        answers[2].Should().Be("127.0.0.3");
        dns.GetQueryCount("name").Should().Be(1);
        PrimaryOf(provider, "anything").ConnectTimeout.Should().Be(TimeSpan.FromSeconds(2));
        PrimaryOf(provider, "own-primary").ConnectTimeout.Should().Be(TimeSpan.FromSeconds(9), "a primary handler the client chose keeps its settings");
        using var ownPrimary = factory.CreateClient("own-primary");
        (await ownPrimary.GetStringAsync(url, TestContext.Current.CancellationToken)).Should().BeOneOf(fleet.Addresses.Select(a => a.ToString()));
    }

    [Fact]
    public async Task AddCloudMapDiscoveryToAllHttpClients_gives_each_client_its_own_configuration_section()
    {
        await using var fleet = await TaskFleet.StartAsync(3);
        await using var dns = await DnsTestServer.StartAsync("internal", cancellationToken: TestContext.Current.CancellationToken);
        dns.SetAddresses("name", DiscoveryHarness.RecordTtl, fleet.Addresses);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CloudMapDiscovery:NameServers:0"] = dns.EndPoint.ToString(),
            ["CloudMapDiscovery:Clients:once:MaxAttempts"] = "1",
            ["CloudMapDiscovery:Clients:quick:ConnectTimeout"] = "00:00:00.600",
        }).Build());
        services.AddCloudMapDiscoveryToAllHttpClients();
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using var once = factory.CreateClient("once");
        using var other = factory.CreateClient("other");
        var url = new Uri($"http://name.internal:{fleet.Port}/flaky");

        fleet.AbortNext = 1;
        await ((Func<Task>)(() => once.GetStringAsync(url))).Should().ThrowAsync<HttpRequestException>("client 'once' makes one attempt");
        fleet.TotalHits.Should().Be(1);
        fleet.AbortNext = 1;
        await other.GetStringAsync(url, TestContext.Current.CancellationToken);
        fleet.TotalHits.Should().Be(3);
        PrimaryOf(provider, "quick").ConnectTimeout.Should().Be(TimeSpan.FromMilliseconds(600));
        PrimaryOf(provider, "other").ConnectTimeout.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_thousand_handler_rotations_leave_one_cache_one_entry_and_one_timer()
    {
        var clock = new TestClock();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            services: (s, _) =>
            {
                s.AddSingleton<TimeProvider>(clock);
                s.AddHttpClient("rotated")
                    .ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler())
                    .AddCloudMapDiscovery(o => o.NameServers.Add(_.EndPoint.ToString()))
                    .SetHandlerLifetime(TimeSpan.FromSeconds(1));
            });
        var options = h.Services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get("rotated");
        var seen = new HashSet<string>();

        for (var i = 0; i < 1_000; i++)
        {
            // What IHttpClientFactory does when a handler expires: a fresh builder, every registered action, Build().
            using var scope = h.Services.CreateScope();
            var builder = scope.ServiceProvider.GetRequiredService<HttpMessageHandlerBuilder>();
            builder.Name = "rotated";
            foreach (var action in options.HttpMessageHandlerBuilderActions)
            {
                action(builder);
            }

            using var handler = builder.Build();
            using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
            using var request = new HttpRequestMessage(HttpMethod.Get, h.Url());
            using var response = await invoker.SendAsync(request, CancellationToken.None);
            seen.Add(new Uri(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Host);
        }

        seen.Should().BeEquivalentTo(h.Fleet.Addresses.Select(a => a.ToString()), "every handler went through discovery");
        h.Registry.CacheCount.Should().Be(1);
        h.Registry.Diagnostics.GetSnapshot().Should().ContainSingle().Which.Host.Should().Be(DiscoveryHarness.Host);
        var settings = CloudMapSettings.From(h.Services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get("rotated"));
        h.Registry.GetCache(settings.Discovery, settings.Balancing).Count.Should().Be(1);
        clock.ActiveTimers.Should().Be(1, "one sweeper per cache, none per handler or per query");
        h.Dns.GetQueryCount("name").Should().Be(1);
    }

    private static SocketsHttpHandler PrimaryOf(IServiceProvider services, string name)
    {
        HttpMessageHandler handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name);
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler!;
        }

        return handler.Should().BeOfType<SocketsHttpHandler>().Subject;
    }
}
