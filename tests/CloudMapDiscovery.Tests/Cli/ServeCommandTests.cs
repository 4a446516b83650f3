using System.Net;
using System.Text.RegularExpressions;
using CloudMapDiscovery.Cli;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Cli;

public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_prints_where_it_listens_and_its_records_answers_and_stops_on_cancel()
    {
        using var stdout = new WatchedWriter("Press Ctrl+C");
        using var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();

        var run = CliApp.RunAsync(
            ["serve", "--zone", "corp", "--port", "0", "--record", "name=10.0.0.1,fd00::1", "--srv", "name=3000:t1.name,2:5:3001:t2.name", "--ttl", "7"],
            stdout,
            stderr,
            stop.Token);
        var banner = await stdout.Seen;
        var endPoint = IPEndPoint.Parse(ListeningOn().Match(banner).Groups[1].Value);
        var a = RawDns.Parse(await RawDns.UdpExchangeAsync(endPoint, RawDns.Query(1, "name.corp", RawDns.A)));
        var srv = RawDns.Parse(await RawDns.TcpExchangeAsync(endPoint, RawDns.Query(2, "name.corp", RawDns.Srv)));
        await stop.CancelAsync();
        var exitCode = await run;

        exitCode.Should().Be(0, stderr.ToString());
        endPoint.Address.Should().Be(IPAddress.Loopback);
        banner.Should().Contain("name.corp.\t7\tIN\tAAAA\tfd00::1").And.Contain("name.corp.\t7\tIN\tSRV\t2 5 3001 t2.name.corp.");
        a.Answers.Single().Address.Should().Be(IPAddress.Parse("10.0.0.1"));
        a.Answers.Single().Ttl.Should().Be(7);
        srv.Answers.Select(r => (r.Priority, r.Weight, r.Port, r.Target)).Should().Equal(
            ((ushort)1, (ushort)1, (ushort)3000, "t1.name.corp"),
            ((ushort)2, (ushort)5, (ushort)3001, "t2.name.corp"));
        var output = stdout.ToString();
        output.Should().Contain("name.corp A over udp from 127.0.0.1:").And.Contain("Stopped after 2 queries.");
    }

    [Theory]
    [InlineData("--record", "name=not-an-ip")]
    [InlineData("--record", "=10.0.0.1")]
    [InlineData("--srv", "name=3000")]
    [InlineData("--srv", "name=x:y:3000:t1")]
    [InlineData("--address", "localhost")]
    [InlineData("--port", "70000")]
    [InlineData("--zone", "a..b")]
    public async Task Bad_serve_arguments_exit_2(string option, string value)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await CliApp.RunAsync(["serve", "--port", "0", option, value], stdout, stderr, TestContext.Current.CancellationToken);

        exitCode.Should().Be(2);
        stderr.ToString().Should().NotBeEmpty();
    }

    [Fact]
    public async Task Port_in_use_exits_2()
    {
        await using var taken = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await CliApp.RunAsync(["serve", "--port", taken.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], stdout, stderr, TestContext.Current.CancellationToken);

        exitCode.Should().Be(2);
        stderr.ToString().Should().Contain("Cannot serve");
    }

    [Fact]
    public async Task Serve_defaults_to_port_15353_not_mdns_5353()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exitCode = await CliApp.RunAsync(["serve", "--help"], stdout, stderr, TestContext.Current.CancellationToken);

        // Only the help: binding the default port here would collide with other runs on the same machine.
        exitCode.Should().Be(0, stderr.ToString());
        ServeCommand.DefaultPort.Should().Be(15353);
        var portLine = stdout.ToString().Split('\n').Single(line => line.Contains("--port", StringComparison.Ordinal));
        portLine.Should().Contain("[default: 15353]").And.NotContain("[default: 5353]");
    }

    [GeneratedRegex(@"on (\S+) \(UDP and TCP\)")]
    private static partial Regex ListeningOn();
}
