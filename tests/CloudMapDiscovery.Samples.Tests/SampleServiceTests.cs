using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudMapDiscovery.Samples.Hello;
using CloudMapDiscovery.Samples.Name;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Samples.Tests;

/// <summary>name and hello as real Kestrel hosts on loopback, with the Testing DNS server as Cloud Map.</summary>
public sealed partial class SampleServiceTests
{
    private static readonly string NameAlternatives = string.Join('|', NameApp.Names);

    // "Fast" means no connect timeout and no DNS timeout is waited out. The connect timeout is made a minute and the DNS
    // timeout runs on a clock the test does not move, both far past the real-time guard of Fast(), so that only the
    // answer the test expects can come in time, however busy the machine.
    private static readonly Dictionary<string, string?> SlowPathsOutOfReach = new() { ["CloudMapDiscovery:ConnectTimeout"] = "00:01:00" };

    private static Task<HttpResponseMessage> Fast(Task<HttpResponseMessage> request) =>
        request.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Name_answers_a_name_from_the_list_with_host_and_local_ip_and_ping_ok()
    {
        await using var lo = await Loopback.StartAsync(11);
        var ip = await lo.StartNameAsync(2, register: false);
        using var http = new HttpClient();

        var seen = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await http.GetAsync(new Uri($"http://{ip}:{lo.NamePort}/"), TestContext.Current.CancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            body.Should().MatchRegex($@"^({NameAlternatives}) \(from {Regex.Escape(System.Net.Dns.GetHostName())} {Regex.Escape(ip)}\)$");
            seen.Add(body.Split(' ')[0]);
        }

        seen.Should().HaveCountGreaterThan(5, "the name is random among 20");
        (await http.GetStringAsync(new Uri($"http://{ip}:{lo.NamePort}/ping"), TestContext.Current.CancellationToken)).Should().Be("ok");
    }

    [Fact]
    public async Task Without_urls_the_samples_listen_on_every_interface_at_PORT()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var app = NameApp.Build([], b =>
        {
            b.Logging.ClearProviders();
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["urls"] = null });
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        using var http = new HttpClient();
        (await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/ping"), TestContext.Current.CancellationToken)).Should().Be("ok");
        (await http.GetStringAsync(new Uri($"http://127.0.12.7:{port}/"), TestContext.Current.CancellationToken)).Should().EndWith("127.0.12.7)", "every interface, not just one");
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Hello_answers_in_the_pattern_format_and_spreads_evenly_over_the_name_tasks()
    {
        await using var lo = await Loopback.StartAsync(13);
        string[] ips = [await lo.StartNameAsync(2), await lo.StartNameAsync(3), await lo.StartNameAsync(4)];
        using var hello = await lo.StartHelloAsync();

        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 300; i++)
        {
            var body = await hello.GetStringAsync(string.Empty, TestContext.Current.CancellationToken);
            var m = HelloPattern().Match(body);
            m.Success.Should().BeTrue($"'{body}' should read 'Hello (from <host> <ip>) <name> (from <host> <ip>)'");
            m.Groups["helloIp"].Value.Should().Be(lo.Ip(1));
            NameApp.Names.Should().Contain(m.Groups["name"].Value);
            counts[m.Groups["nameIp"].Value] = counts.GetValueOrDefault(m.Groups["nameIp"].Value) + 1;
        }

        counts.Keys.Should().BeEquivalentTo(ips);
        counts.Values.Should().OnlyContain(n => n >= 90 && n <= 110, "round robin per request gives each of 3 tasks a third of 300");
    }

    [Fact]
    public async Task A_killed_task_costs_no_failure_and_a_re_registered_one_takes_traffic_within_the_ttl()
    {
        await using var lo = await Loopback.StartAsync(14);
        var dead = await lo.StartNameAsync(2);
        await lo.StartNameAsync(3);
        await lo.StartNameAsync(4);
        var time = new FakeTimeProvider();
        using var hello = await lo.StartHelloAsync(clock: time);
        for (var i = 0; i < 10; i++)
        {
            (await hello.GetAsync(string.Empty, TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // Killed without deregistering: every request still succeeds, the dead IP is ejected.
        await lo.KillNameAsync(dead);
        for (var i = 0; i < 60; i++)
        {
            using var response = await hello.GetAsync(string.Empty, TestContext.Current.CancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().NotEndWith($"{dead})");
        }

        using (var json = JsonDocument.Parse(await hello.GetStringAsync("debug/endpoints", TestContext.Current.CancellationToken)))
        {
            var endpoint = json.RootElement.EnumerateArray().Single().GetProperty("endpoints").EnumerateArray()
                .Single(e => e.GetProperty("address").GetString() == dead);
            endpoint.GetProperty("consecutiveFailures").GetInt32().Should().BeGreaterThan(0);
        }

        // Deregistered and replaced: once the TTL in force (MinTtl, plus its jitter) has passed on hello's clock,
        // the new task is in the answer and takes its share, with no failure meanwhile.
        lo.Dns.RemoveAddress("name", IPAddress.Parse(dead));
        var fresh = await lo.StartNameAsync(5);
        // Past the refresh point (MinTtl plus up to 10 % jitter) and one more tick of the cache's 1 s sweeper,
        // which refreshes due names without waiting for a request.
        time.Advance(Loopback.MinTtl * 1.2 + TimeSpan.FromSeconds(1));
        // In the answer and healthy: a new address takes requests once a background connect to it succeeded.
        await DebugEndpoints.UntilAsync(
            hello,
            s => s.GetProperty("endpoints").EnumerateArray().Any(e => e.GetProperty("address").GetString() == fresh && e.GetProperty("state").GetString() == "Healthy"),
            $"{fresh} in the answer and healthy");
        var answers = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await hello.GetAsync(string.Empty, TestContext.Current.CancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            answers.Add(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        answers.Should().ContainSingle(a => a.EndsWith($"{fresh})", StringComparison.Ordinal), "round robin over the three live tasks");
    }

    [Fact]
    public async Task With_every_task_down_hello_answers_502_fast_with_the_reason_and_ping_stays_ok()
    {
        await using var lo = await Loopback.StartAsync(15);
        var a = await lo.StartNameAsync(2);
        var b = await lo.StartNameAsync(3);
        var time = new FakeTimeProvider();
        using var hello = await lo.StartHelloAsync(SlowPathsOutOfReach, clock: time);
        (await hello.GetAsync(string.Empty, TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);

        await lo.KillNameAsync(a);
        await lo.KillNameAsync(b);
        using (var response = await Fast(hello.GetAsync(string.Empty, TestContext.Current.CancellationToken)))
        {
            response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
            var reason = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            reason.Should().NotContain("\n").And.Contain("name.internal").And.Contain(a).And.Contain(b).And.Contain("refused");
        }

        (await hello.GetStringAsync("ping", TestContext.Current.CancellationToken)).Should().Be("ok", "a health check must not call name");

        // Deregistered too: DNS says there are no instances, and hello says so.
        lo.Dns.RemoveName("name");
        time.Advance(Loopback.MinTtl * 1.2 + TimeSpan.FromSeconds(1));
        await DebugEndpoints.UntilAsync(
            hello,
            s => s.GetProperty("noInstancesReason").ValueKind == JsonValueKind.String,
            "the NXDOMAIN answer");
        using (var response = await Fast(hello.GetAsync(string.Empty, TestContext.Current.CancellationToken)))
        {
            response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
            (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().StartWith("No instances are registered for name.internal");
        }
    }

    [Fact]
    public async Task Hello_with_no_name_service_at_all_answers_502_and_ping_ok()
    {
        await using var lo = await Loopback.StartAsync(16);
        using var hello = await lo.StartHelloAsync(
            new Dictionary<string, string?>(SlowPathsOutOfReach) { [HelloApp.NameServerKey] = "http://name.internal:3000/" },
            clock: new FakeTimeProvider());
        using var response = await Fast(hello.GetAsync(string.Empty, TestContext.Current.CancellationToken));
        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("name.internal");
        (await hello.GetStringAsync("ping", TestContext.Current.CancellationToken)).Should().Be("ok");
    }

    [Fact]
    public async Task Debug_endpoints_returns_the_discovery_snapshot_as_json()
    {
        await using var lo = await Loopback.StartAsync(17);
        await lo.StartNameAsync(2);
        await lo.StartNameAsync(3);
        using var hello = await lo.StartHelloAsync();
        (await hello.GetAsync(string.Empty, TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);

        using var response = await hello.GetAsync("debug/endpoints", TestContext.Current.CancellationToken);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var service = json.RootElement.EnumerateArray().Single();
        service.GetProperty("host").GetString().Should().Be("name.internal");
        service.GetProperty("recordTypes").GetString().Should().Be("A");
        service.GetProperty("isStale").GetBoolean().Should().BeFalse();
        service.GetProperty("ttl").GetString().Should().Be("00:00:01", "TTL 0 is floored to MinTtl");
        var endpoints = service.GetProperty("endpoints").EnumerateArray().ToArray();
        endpoints.Select(e => e.GetProperty("address").GetString()).Should().BeEquivalentTo([lo.Ip(2), lo.Ip(3)]);
        endpoints.Should().OnlyContain(e => e.GetProperty("state").GetString() == "Healthy");
        endpoints.Sum(e => e.GetProperty("requestsPicked").GetInt64()).Should().Be(1);
    }

    [Theory]
    [InlineData(null, null, "http://name.internal:3000/")]
    [InlineData("http://other.internal:8080/x", "prod.shop.local", "http://other.internal:8080/x")]
    [InlineData(null, "prod.shop.local", "http://name.prod.shop.local:3000/")]
    [InlineData("", "shop.local.", "http://name.shop.local:3000/")]
    public void NAME_SERVER_wins_else_Copilot_endpoint_else_name_internal(string? nameServer, string? copilot, string expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [HelloApp.NameServerKey] = nameServer,
            [HelloApp.CopilotEndpointKey] = copilot,
        }).Build();
        HelloApp.ResolveNameServer(config).Should().Be(new Uri(expected));
    }

    [GeneratedRegex(@"^Hello \(from \S+ (?<helloIp>[\d.]+)\) (?<name>[A-Z][a-z]+) \(from \S+ (?<nameIp>[\d.]+)\)$")]
    private static partial Regex HelloPattern();
}
