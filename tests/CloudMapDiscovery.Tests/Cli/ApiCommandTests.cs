using System.Text.Json;
using System.Text.RegularExpressions;
using CloudMapDiscovery.Cli;

namespace CloudMapDiscovery.Tests.Cli;

/// <summary><c>cloudmap serve --api-port</c> serves the zone as Cloud Map instances, and <c>cloudmap discover</c> reads them back.</summary>
public sealed partial class ApiCommandTests
{
    [Fact]
    public async Task Serve_with_api_port_serves_the_zone_as_instances_that_discover_reads()
    {
        using var stdout = new WatchedWriter("Press Ctrl+C");
        using var stderr = new StringWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = CliApp.RunAsync(
            ["serve", "--zone", "corp", "--port", "0", "--api-port", "0", "--quiet", "--record", "name=127.0.0.2,127.0.0.3", "--record", "t1.svc=127.0.0.4", "--srv", "svc=3000:t1.svc"],
            stdout,
            stderr,
            stop.Token);
        var banner = await stdout.Seen;
        var url = ApiUrl().Match(banner).Groups[1].Value;

        // Keys from the environment: the default chain stops there and asks nothing beyond loopback.
        string[] variables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED"];
        var saved = variables.Select(Environment.GetEnvironmentVariable).ToArray();
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIDCLITEST");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "cli-test-secret");
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        using var names = new StringWriter();
        using var services = new StringWriter();
        using var errors = new StringWriter();
        int namesExit, servicesExit, missingExit;
        try
        {
            namesExit = await CliApp.RunAsync(["discover", "corp", "name", "--service-url", url, "--region", "eu-west-1", "--json"], names, errors, TestContext.Current.CancellationToken);
            servicesExit = await CliApp.RunAsync(["discover", "corp", "svc", "--service-url", url, "--region", "eu-west-1"], services, errors, TestContext.Current.CancellationToken);
            missingExit = await CliApp.RunAsync(["discover", "corp", "nothere", "--service-url", url, "--region", "eu-west-1"], TextWriter.Null, errors, TestContext.Current.CancellationToken);
        }
        finally
        {
            for (var i = 0; i < variables.Length; i++)
            {
                Environment.SetEnvironmentVariable(variables[i], saved[i]);
            }
        }
        await stop.CancelAsync();
        (await run).Should().Be(0, stderr.ToString());

        namesExit.Should().Be(0, errors.ToString());
        using var reply = JsonDocument.Parse(names.ToString());
        reply.RootElement.GetProperty("Instances").EnumerateArray().Select(i => i.GetProperty("Attributes").GetProperty("AWS_INSTANCE_IPV4").GetString())
            .Should().BeEquivalentTo("127.0.0.2", "127.0.0.3");
        servicesExit.Should().Be(0);
        services.ToString().Should().Contain("t1").And.Contain("127.0.0.4").And.Contain("3000");
        missingExit.Should().Be(1);
        errors.ToString().Should().Contain("ServiceNotFound").And.NotContain("cli-test-secret");
    }

    [GeneratedRegex(@"at (http://\S+/) \(DiscoverInstances")]
    private static partial Regex ApiUrl();
}
