using System.Net;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Http;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Tests.Readme;

/// <summary>What the README promises about options and configuration, checked against the library.</summary>
public sealed class ReadmePromiseTests
{
    /// <summary>Each row of the README's options table: the default it states, and that default on the options.</summary>
    private static readonly Dictionary<string, (string Stated, Func<CloudMapDiscoveryOptions, bool> Holds)> Defaults = new(StringComparer.Ordinal)
    {
        ["`Source`"] = ("`Dns`", o => o.Source == CloudMapEndpointSourceKind.Dns),
        ["`NameServers`"] = ("/etc/resolv.conf", o => o.NameServers.Count == 0),
        ["`RecordTypes`"] = ("`A`", o => o.RecordTypes == DiscoveryRecordTypes.A),
        ["`MinTtl`"] = ("5 s", o => o.MinTtl == TimeSpan.FromSeconds(5)),
        ["`MaxTtl`"] = ("60 s", o => o.MaxTtl == TimeSpan.FromSeconds(60)),
        ["`MaxStale`"] = ("5 min", o => o.MaxStale == TimeSpan.FromMinutes(5)),
        ["`NegativeTtlCap`"] = ("5 s", o => o.NegativeTtlCap == TimeSpan.FromSeconds(5)),
        ["`MergeMultiValueAnswers`"] = ("on", o => o.MergeMultiValueAnswers),
        ["`ConsecutiveConnectFailures`"] = ("1", o => o.ConsecutiveConnectFailures == 1),
        ["`ConsecutiveFailures`"] = ("3", o => o.ConsecutiveFailures == 3),
        ["`BaseEjectionTime` / `MaxEjectionTime`"] = ("10 s / 2 min", o => o.BaseEjectionTime == TimeSpan.FromSeconds(10) && o.MaxEjectionTime == TimeSpan.FromMinutes(2)),
        ["`ProbeEjectedEndpoints`"] = ("on", o => o.ProbeEjectedEndpoints),
        ["`ProbeNewEndpoints`"] = ("on", o => o.ProbeNewEndpoints),
        ["`MaxAttempts`"] = ("3", o => o.MaxAttempts == 3),
        ["`ConnectTimeout`"] = ("2 s", o => o.ConnectTimeout == TimeSpan.FromSeconds(2)),

        // Unset on the options: the resolver takes resolv.conf's values, else 2 s and 2 (ResolvConfTests checks those).
        ["`DnsTimeout` / `DnsAttempts`"] = ("resolv.conf's, else 2 s / 2", o => o.DnsTimeout is null && o.DnsAttempts is null),
        ["`IdleTimeout`"] = ("10 min", o => o.IdleTimeout == TimeSpan.FromMinutes(10)),
        ["`MaxCachedNames`"] = ("1,000", o => o.MaxCachedNames == 1_000),
        ["`ZoneAware` / `ZoneMinEndpoints` / `ZoneMinHealthyLocal`"] = ("on / 6 / 2", o => o.ZoneAware && o.ZoneMinEndpoints == 6 && o.ZoneMinHealthyLocal == 2 && o.Zone is null && o.ZoneId is null),
        ["`ConsecutiveServerErrors`"] = ("5", o => o.ConsecutiveServerErrors == 5),
        ["`FailureRateThreshold` / `FailureRateMinimumRequests`"] = ("0.3 / 20", o => o.FailureRateThreshold == 0.3 && o.FailureRateMinimumRequests == 20),
        ["`MaxEjectionPercent`"] = ("50", o => o.MaxEjectionPercent == 50),
        ["`HealthCheckPath`"] = ("none", o => o.HealthCheckPath is null),
        ["`LoadBalancer`"] = ("`RoundRobin`", o => o.LoadBalancer == LoadBalancingPolicy.RoundRobin),
    };

    [Fact]
    public void Every_default_in_the_README_options_table_is_the_options_default()
    {
        ReadmeOptionsTable.ShouldStateTheDefaults("### Options", "In `appsettings.json`", Defaults, new CloudMapDiscoveryOptions());
    }

    [Fact]
    public async Task Options_come_from_environment_variables_shared_and_per_client()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var fleet = await TaskFleet.StartAsync(3);
        await using var dns = await DnsTestServer.StartAsync("internal", cancellationToken: cancel);
        dns.SetAddresses("name", DiscoveryHarness.RecordTtl, fleet.Addresses);

        // The README's variables, behind a prefix of this test's own so that no other test can see them.
        var prefix = $"CLOUDMAP_README_{Guid.NewGuid():N}_";
        using var variables = ScopedEnvironment.Set(
            (prefix + "CloudMapDiscovery__NameServers__0", dns.EndPoint.ToString()),
            (prefix + "CloudMapDiscovery__Clients__name__MaxAttempts", "2"));
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build());
        services.AddHttpClient("name").AddCloudMapDiscovery();
        services.AddHttpClient("other").AddCloudMapDiscovery();
        await using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>();
        monitor.Get("name").MaxAttempts.Should().Be(2);
        monitor.Get("other").MaxAttempts.Should().Be(3, "the per-client variable is for client 'name' alone");
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using var name = factory.CreateClient("name");
        using var other = factory.CreateClient("other");
        var url = new Uri($"http://name.internal:{fleet.Port}/flaky");

        // Two aborted attempts: client 'name' gives up after its two, 'other' makes a third and gets an answer.
        fleet.AbortNext = 2;
        await ((Func<Task>)(() => name.GetStringAsync(url, cancel))).Should().ThrowAsync<HttpRequestException>();
        fleet.TotalHits.Should().Be(2);
        fleet.AbortNext = 2;
        (await other.GetStringAsync(url, cancel)).Should().StartWith("127.0.0.");
        fleet.TotalHits.Should().Be(5);
        dns.GetQueryCount("name").Should().Be(1, "both clients asked the name server the variable named");
    }

    [Fact]
    public async Task A_redirect_followed_below_discovery_carries_the_services_name_to_the_other_host()
    {
        // The README's limit: SocketsHttpHandler follows redirects below the handler and keeps the Host it was given.
        var cancel = TestContext.Current.CancellationToken;
        await using var h = await DiscoveryHarness.StartAsync(1);
        var port = Integration.Tests.Infrastructure.LoopbackTasks.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.9:{port}");
        await using var redirector = builder.Build();
        redirector.MapGet("/", () => Results.Redirect($"http://127.0.0.2:{h.Fleet.Port}/host"));
        await redirector.StartAsync(cancel);
        h.Dns.SetAddresses("redirector", DiscoveryHarness.RecordTtl, IPAddress.Parse("127.0.0.9"));
        using var client = h.CreateClient();

        var host = await client.GetStringAsync(new Uri($"http://redirector.internal:{port}/"), cancel);

        host.Should().Be($"redirector.internal:{port}", "the task at the redirect's target gets the service's name");
        h.Fleet.Hits(0).Should().Be(1);
    }
}
