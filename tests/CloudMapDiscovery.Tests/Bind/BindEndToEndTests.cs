using System.Text.Json;
using CloudMapDiscovery.Cli;
using CloudMapDiscovery.Tests.Http;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Bind;

/// <summary>
/// The user-facing pieces against a real BIND: what <c>cloudmap resolve --json</c> prints for every kind of answer,
/// and HttpClient traffic to real Kestrel tasks registered in BIND with nsupdate.
/// </summary>
[Collection(BindCollectionDefinition.Name)]
public sealed class BindEndToEndTests
{
    private readonly BindServer _bind;

    public BindEndToEndTests(BindServer bind)
    {
        _bind = bind;
    }

    [Theory]
    [InlineData(BindZone.Three, "A", "udp")]
    [InlineData(BindZone.Many, "A", "tcp")]
    [InlineData(BindZone.V6, "AAAA", "udp")]
    [InlineData(BindZone.Alias1, "A", "udp")]
    public async Task Cli_json_lists_the_addresses_dig_sees(string name, string type, string transport)
    {
        BindServer.SkipIfUnavailable();

        var (exitCode, json) = await ResolveAsync(name, type);

        exitCode.Should().Be(0);
        json.GetProperty("transport").GetString().Should().Be(transport);
        json.GetProperty("responseCode").GetString().Should().Be("NoError");
        json.GetProperty("server").GetString().Should().Be(_bind.NameServer);
        var addresses = json.GetProperty("answers").EnumerateArray().Select(a => a.GetProperty("address").GetString()!).ToList();

        // dig +short also prints the CNAME targets of an alias; keep only addresses.
        var dig = (await _bind.DigShortAsync(name, type)).Where(l => !l.EndsWith('.')).ToList();
        addresses.Should().BeEquivalentTo(dig);
        addresses.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Cli_json_for_srv_carries_ports_targets_and_their_addresses()
    {
        BindServer.SkipIfUnavailable();

        var (exitCode, json) = await ResolveAsync(BindZone.Svc, "SRV");

        exitCode.Should().Be(0);
        var answers = json.GetProperty("answers").EnumerateArray()
            .Select(a => (
                Target: a.GetProperty("target").GetString()!,
                Port: (ushort)a.GetProperty("port").GetInt32(),
                Address: a.GetProperty("addresses").EnumerateArray().Single().GetString()!))
            .ToList();
        answers.Should().BeEquivalentTo(BindZone.SvcRecords.Select(r => (r.Target, r.Port, r.Address)));
    }

    [Fact]
    public async Task Cli_exits_1_for_nxdomain_with_the_negative_ttl()
    {
        BindServer.SkipIfUnavailable();

        var (exitCode, json) = await ResolveAsync("nobody-here.internal", "A");

        exitCode.Should().Be(1);
        json.GetProperty("responseCode").GetString().Should().Be("NXDomain");
        json.GetProperty("answers").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task Requests_spread_evenly_over_tasks_registered_in_bind_and_survive_one_dying()
    {
        BindServer.SkipIfUnavailable();

        await using var fleet = await TaskFleet.StartAsync(3);
        var name = $"web-{Guid.NewGuid():N}"[..12] + ".internal";
        foreach (var address in fleet.Addresses)
        {
            await _bind.AddRecordAsync(name, 0, "A", address.ToString());
        }

        var services = new ServiceCollection();
        services.AddHttpClient("web").AddCloudMapDiscovery(o =>
        {
            o.NameServers.Add(_bind.NameServer);
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("web");
        var url = new Uri($"http://{name}:{fleet.Port}/");

        for (var i = 0; i < 300; i++)
        {
            (await client.GetAsync(url, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        Enumerable.Range(0, 3).Select(fleet.Hits).Should().AllSatisfy(h => h.Should().Be(100));

        // A task dies without deregistering (BIND still lists it): no request may fail.
        await fleet.KillAsync(1);
        var failures = 0;
        for (var i = 0; i < 60; i++)
        {
            using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
            failures += response.IsSuccessStatusCode ? 0 : 1;
        }

        failures.Should().Be(0);
        fleet.Hits(0).Should().BeGreaterThan(120);
        fleet.Hits(2).Should().BeGreaterThan(120);
    }

    private async Task<(int ExitCode, JsonElement Json)> ResolveAsync(string name, string type)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(["resolve", name + ".", "--type", type, "--server", _bind.NameServer, "--json"], stdout, stderr);
        stderr.ToString().Should().BeEmpty();
        using var document = JsonDocument.Parse(stdout.ToString());
        return (exitCode, document.RootElement.Clone());
    }
}
