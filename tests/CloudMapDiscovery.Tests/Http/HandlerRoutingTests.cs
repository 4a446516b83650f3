using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>Where requests go: round robin over the tasks, the original Host kept, everything else untouched.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class HandlerRoutingTests
{
    [Fact]
    public async Task Sequential_GETs_are_spread_evenly_over_every_task_from_one_DNS_query()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            answers.Add(await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken));
        }

        var byTask = answers.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        byTask.Keys.Should().BeEquivalentTo(h.Fleet.Addresses.Select(a => a.ToString()));
        byTask.Values.Should().OnlyContain(n => n >= 99 && n <= 101, "round robin per request, not one pooled connection per host");
        Enumerable.Range(0, 3).Select(h.Fleet.Hits).Should().OnlyContain(n => n >= 99 && n <= 101);
        h.Dns.GetQueryCount("name").Should().Be(1, "the answer is cached for its TTL");
        h.Snapshot().Endpoints.Sum(e => e.RequestsPicked).Should().Be(300);
    }

    [Fact]
    public async Task Every_task_sees_the_original_host_and_port_in_the_Host_header()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();

        var hosts = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            hosts.Add(await client.GetStringAsync(h.Url("/host"), TestContext.Current.CancellationToken));
        }

        hosts.Should().AllBe($"name.internal:{h.Fleet.Port}");
        Enumerable.Range(0, 3).Select(h.Fleet.Hits).Should().AllBeEquivalentTo(2, "the requests did go to the task addresses");
    }

    [Fact]
    public async Task A_Host_header_set_by_the_caller_is_kept_and_the_request_URI_is_restored_after_the_call()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        using var client = h.CreateClient();
        var original = h.Url("/host");

        using var custom = new HttpRequestMessage(HttpMethod.Get, original);
        custom.Headers.Host = "virtual.example:8443";
        using var customResponse = await client.SendAsync(custom, TestContext.Current.CancellationToken);
        (await customResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be("virtual.example:8443");
        custom.RequestUri.Should().BeSameAs(original);
        custom.Headers.Host.Should().Be("virtual.example:8443");

        using var plain = new HttpRequestMessage(HttpMethod.Get, original);
        using var plainResponse = await client.SendAsync(plain, TestContext.Current.CancellationToken);
        (await plainResponse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be($"name.internal:{h.Fleet.Port}");
        plain.RequestUri.Should().BeSameAs(original, "callers and logs see the URI they asked for");
        plainResponse.RequestMessage!.RequestUri.Should().Be(original);
        plain.Headers.Host.Should().BeNull("the Host the handler added must not follow the request if an outer handler sends it again");
        h.Fleet.TotalHits.Should().Be(2);
    }

    [Fact]
    public async Task An_IP_literal_URL_goes_to_that_address_without_DNS()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        using var client = h.CreateClient();

        for (var i = 0; i < 4; i++)
        {
            (await client.GetStringAsync(new Uri($"http://127.0.0.3:{h.Fleet.Port}/host"), TestContext.Current.CancellationToken)).Should().Be($"127.0.0.3:{h.Fleet.Port}");
        }

        h.Fleet.Hits(1).Should().Be(4);
        h.Fleet.Hits(0).Should().Be(0);
        h.Dns.QueryCount.Should().Be(0);
        h.Services.GetRequiredService<CloudMapDiscovery.Diagnostics.ICloudMapDiscoveryDiagnostics>().GetSnapshot().Should().BeEmpty();
    }

    [Fact]
    public async Task IP_literals_localhost_and_names_outside_HostSuffixes_pass_through_untouched()
    {
        var recorder = new RecordingHandler();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            o =>
            {
                o.HostSuffixes.Add("internal");
                o.ServiceDiscoveryDomain = null;
            },
            client: b => b.ConfigurePrimaryHttpMessageHandler(() => recorder));
        using var client = h.CreateClient();
        var port = h.Fleet.Port;
        Uri[] untouched =
        [
            new($"http://localhost:{port}/a?b=c"),
            new($"http://api.localhost:{port}/"),
            new("http://127.0.0.9/x"),
            new("http://[::1]:8080/y"),
            new($"http://name.other:{port}/z"),
            new($"http://name:{port}/short"),
        ];

        foreach (var uri in untouched)
        {
            (await client.GetStringAsync(uri, TestContext.Current.CancellationToken)).Should().Be(uri.ToString());
        }

        await client.GetStringAsync(h.Url("/in?q=1#frag"), TestContext.Current.CancellationToken);

        recorder.Seen.Take(untouched.Length).Should().Equal(untouched.Select(u => ((Uri?)u, (string?)null)));
        var discovered = recorder.Seen[^1];
        discovered.Uri!.Host.Should().BeOneOf(h.Fleet.Addresses.Select(a => a.ToString()));
        discovered.Uri.PathAndQuery.Should().Be("/in?q=1");
        discovered.Uri.Port.Should().Be(port);
        discovered.Host.Should().Be($"name.internal:{port}");
        h.Dns.QueryCount.Should().Be(1, "only name.internal was looked up");
        h.Dns.GetQueryCount("name.other.").Should().Be(0);
    }

    [Fact]
    public async Task A_short_name_expands_with_the_service_discovery_domain()
    {
        await using var h = await DiscoveryHarness.StartAsync(2, o => o.ServiceDiscoveryDomain = "internal");
        using var client = h.CreateClient();

        var first = await client.GetStringAsync(new Uri($"http://name:{h.Fleet.Port}/"), TestContext.Current.CancellationToken);
        var second = await client.GetStringAsync(new Uri($"http://name:{h.Fleet.Port}/"), TestContext.Current.CancellationToken);

        new[] { first, second }.Should().BeEquivalentTo(h.Fleet.Addresses.Select(a => a.ToString()));
        h.Dns.GetQueryCount("name.internal").Should().Be(1);
        h.Snapshot("name.internal").Endpoints.Should().HaveCount(2);
    }
}
