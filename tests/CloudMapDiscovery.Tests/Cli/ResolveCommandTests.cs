using System.Net;
using System.Text.Json;
using CloudMapDiscovery.Cli;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Tests.Cli;

public sealed class ResolveCommandTests : IAsyncLifetime
{
    private DnsTestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await DnsTestServer.StartAsync();
        _server.SetAddresses("name", TimeSpan.Zero, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2"));
        _server.AddService("name", 1, 1, 3000, "task-1.name", TimeSpan.FromSeconds(10));
        _server.AddAddress("task-1.name", IPAddress.Parse("10.0.1.1"), TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    // Every run names the test server and an absolute name, so no query leaves loopback whatever resolv.conf says.
    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(["resolve", .. args, "--server", _server.EndPoint.ToString(), "--attempts", "1"], stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Json_for_A_has_the_documented_shape_and_exit_code_0()
    {
        var (exitCode, stdout, stderr) = await RunAsync("name.internal.", "--json");

        exitCode.Should().Be(0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        root.GetProperty("question").GetProperty("name").GetString().Should().Be("name.internal");
        root.GetProperty("question").GetProperty("type").GetString().Should().Be("A");
        root.GetProperty("server").GetString().Should().Be(_server.EndPoint.ToString());
        root.GetProperty("transport").GetString().Should().Be("udp");
        root.GetProperty("responseCode").GetString().Should().Be("NoError");
        root.GetProperty("elapsedMs").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        var answers = root.GetProperty("answers").EnumerateArray().ToList();
        answers.Select(a => a.GetProperty("address").GetString()).Should().Equal("10.0.0.1", "10.0.0.2");
        answers.Should().AllSatisfy(a =>
        {
            a.GetProperty("name").GetString().Should().Be("name.internal");
            a.GetProperty("type").GetString().Should().Be("A");
            a.GetProperty("ttl").GetInt64().Should().Be(0);
        });
    }

    [Fact]
    public async Task Json_for_SRV_lists_priority_weight_port_target_and_addresses()
    {
        var (exitCode, stdout, stderr) = await RunAsync("name.internal.", "--type", "srv", "--json");

        exitCode.Should().Be(0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var answer = json.RootElement.GetProperty("answers").EnumerateArray().Should().ContainSingle().Subject;
        answer.GetProperty("type").GetString().Should().Be("SRV");
        answer.GetProperty("ttl").GetInt64().Should().Be(10);
        answer.GetProperty("priority").GetInt32().Should().Be(1);
        answer.GetProperty("weight").GetInt32().Should().Be(1);
        answer.GetProperty("port").GetInt32().Should().Be(3000);
        answer.GetProperty("target").GetString().Should().Be("task-1.name.internal");
        answer.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).Should().Equal("10.0.1.1");
    }

    [Fact]
    public async Task Json_shows_the_CNAME_chain_separately_from_the_answers()
    {
        _server.SetCanonicalName("alias", "name", TimeSpan.FromSeconds(30));

        var (exitCode, stdout, _) = await RunAsync("alias.internal.", "--json");

        exitCode.Should().Be(0);
        using var json = JsonDocument.Parse(stdout);
        var link = json.RootElement.GetProperty("canonicalNames").EnumerateArray().Should().ContainSingle().Subject;
        (link.GetProperty("name").GetString(), link.GetProperty("target").GetString(), link.GetProperty("ttl").GetInt64())
            .Should().Be(("alias.internal", "name.internal", 30L));
        json.RootElement.GetProperty("answers").GetArrayLength().Should().Be(2);
    }

    [Fact]
    public async Task Truncated_answer_is_fetched_over_TCP_and_says_so()
    {
        _server.SetAddresses("big", TimeSpan.FromSeconds(5), Enumerable.Range(1, 150).Select(i => new IPAddress([10, 9, 0, (byte)i])).ToArray());

        var (exitCode, stdout, stderr) = await RunAsync("big.internal.", "--json");

        exitCode.Should().Be(0, stderr);
        using var json = JsonDocument.Parse(stdout);
        json.RootElement.GetProperty("transport").GetString().Should().Be("tcp");
        json.RootElement.GetProperty("answers").GetArrayLength().Should().Be(150);
        _server.TcpQueryCount.Should().Be(1);
    }

    [Fact]
    public async Task NXDOMAIN_exits_1_with_the_response_code_and_negative_TTL()
    {
        _server.NegativeTtl = TimeSpan.FromSeconds(60);

        var (exitCode, stdout, _) = await RunAsync("missing.internal.", "--json");

        exitCode.Should().Be(1);
        using var json = JsonDocument.Parse(stdout);
        json.RootElement.GetProperty("responseCode").GetString().Should().Be("NXDomain");
        json.RootElement.GetProperty("answers").GetArrayLength().Should().Be(0);
        json.RootElement.GetProperty("negativeTtl").GetInt64().Should().Be(60);
    }

    [Fact]
    public async Task NODATA_exits_1_and_the_table_explains_it()
    {
        var (exitCode, stdout, _) = await RunAsync("name.internal.", "--type", "AAAA");

        exitCode.Should().Be(1);
        stdout.Should().Contain("NoError").And.Contain("no AAAA records").And.Contain("negative TTL 900 s");
    }

    [Fact]
    public async Task Table_lists_each_record()
    {
        var (exitCode, stdout, _) = await RunAsync("name.internal.", "--type", "SRV");

        exitCode.Should().Be(0);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines[0].Should().StartWith("name.internal SRV: NoError from " + _server.EndPoint + " over udp");
        lines[1].Should().MatchRegex("^NAME +TYPE +TTL +DATA$");
        lines[2].Should().MatchRegex(@"^name\.internal +SRV +10 +1 1 3000 task-1\.name\.internal \(10\.0\.1\.1\)$");
    }

    [Fact]
    public async Task Server_failure_exits_2_with_the_resolvers_message_on_stderr()
    {
        _server.InjectFault(DnsFault.ServFail());

        var (exitCode, stdout, stderr) = await RunAsync("name.internal.", "--json");

        exitCode.Should().Be(2);
        stdout.Should().BeEmpty("scripts reading --json must not get half an answer");
        stderr.Should().Contain("name.internal").And.Contain(_server.EndPoint.ToString());
    }

    [Fact]
    public async Task Stopped_server_exits_2()
    {
        await _server.StopAsync();

        var (exitCode, _, stderr) = await RunAsync("name.internal.", "--timeout", "5");

        exitCode.Should().Be(2);
        stderr.Should().Contain(_server.EndPoint.ToString());
    }

    [Theory]
    [InlineData("name.internal.", "--type", "MX")]
    [InlineData("name.internal.", "--timeout", "0")]
    [InlineData("name.internal.", "--timeout", "soon")]
    [InlineData("name.internal.", "--server", "not-an-ip")]
    [InlineData("name.internal.", "--server", "5353")]
    [InlineData("name.internal.", "--unknown")]
    [InlineData("--unknown")]
    public async Task Bad_arguments_exit_2_without_querying(params string[] args)
    {
        var (exitCode, stdout, stderr) = await RunAsync(args);

        exitCode.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().NotBeEmpty();
        _server.QueryCount.Should().Be(0);
    }

    [Fact]
    public async Task Missing_command_exits_2_and_help_exits_0()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var none = await CliApp.RunAsync([], stdout, stderr, TestContext.Current.CancellationToken);
        var help = await CliApp.RunAsync(["resolve", "--help"], stdout, stderr, TestContext.Current.CancellationToken);

        none.Should().Be(2);
        help.Should().Be(0);
        stdout.ToString().Should().Contain("--server").And.Contain("--json");
    }
}
