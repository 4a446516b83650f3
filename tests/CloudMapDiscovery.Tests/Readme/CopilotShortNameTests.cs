using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Http;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Readme;

/// <summary>
/// Tests that set a process-wide environment variable the library reads. They run alone, after every parallel test,
/// so that no other test builds its options while the variable is set.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentGroup
{
    public const string Name = "Process environment";
}

/// <summary>"Copilot short names work: <c>http://api</c> becomes <c>api.&lt;COPILOT_SERVICE_DISCOVERY_ENDPOINT&gt;</c>".</summary>
[Collection(ProcessEnvironmentGroup.Name)]
public sealed class CopilotShortNameTests
{
    private const string Variable = "COPILOT_SERVICE_DISCOVERY_ENDPOINT";

    [Fact]
    public async Task A_short_name_is_discovered_under_the_domain_Copilot_gives_the_task()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var fleet = await TaskFleet.StartAsync(2);
        await using var dns = await DnsTestServer.StartAsync("test.app.local", cancellationToken: cancel);
        dns.SetAddresses("api", DiscoveryHarness.RecordTtl, fleet.Addresses);
        using var copilot = ScopedEnvironment.Set((Variable, "test.app.local"));
        var services = new ServiceCollection();
        services.AddHttpClient("api").AddCloudMapDiscovery(o => o.NameServers.Add(dns.EndPoint.ToString()));
        await using var provider = services.BuildServiceProvider();
        using var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        var url = new Uri($"http://api:{fleet.Port}/host");

        string[] hosts = [await api.GetStringAsync(url, cancel), await api.GetStringAsync(url, cancel)];

        hosts.Should().AllBe($"api:{fleet.Port}", "the request keeps the name it was written with");
        Enumerable.Range(0, 2).Select(fleet.Hits).Should().Equal(1, 1);
        dns.GetQueryCount("api.test.app.local").Should().Be(1);
    }
}
