using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Samples.Tests;

/// <summary>Hello configured for the Cloud Map API source from configuration alone (the keys its environment variables set).</summary>
public sealed partial class HelloApiSourceTests
{
    [Fact]
    public async Task Hello_with_source_api_reaches_twelve_name_tasks_but_the_unhealthy_one()
    {
        await using var lo = await Loopback.StartAsync(41);
        await using var cloudMap = CloudMapApiTestServer.Start();
        var ips = new List<string>();
        for (var host = 2; host <= 13; host++)
        {
            var ip = await lo.StartNameAsync(host, register: false);
            ips.Add(ip);
            cloudMap.RegisterInstance("internal", "name", $"task-{host}", new Dictionary<string, string>
            {
                ["AWS_INSTANCE_IPV4"] = ip,
                ["AWS_INSTANCE_PORT"] = lo.NamePort.ToString(CultureInfo.InvariantCulture),
                ["AVAILABILITY_ZONE"] = "eu-west-1a",
            }, host == 7 ? CloudMapHealthStatus.Unhealthy : CloudMapHealthStatus.Healthy);
        }

        using var hello = await lo.StartHelloAsync(
            new Dictionary<string, string?>
            {
                ["CloudMapDiscovery:Source"] = "Api",
                ["CloudMapDiscovery:Api:Region"] = "eu-west-1",
                ["CloudMapDiscovery:Api:ServiceUrl"] = cloudMap.ServiceUrl.ToString(),
            },
            services: s => s.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDHELLO", "hello-secret")));

        var seen = new HashSet<string>();
        for (var i = 0; i < 120; i++)
        {
            var body = await hello.GetStringAsync(string.Empty, TestContext.Current.CancellationToken);
            var m = NameIp().Match(body);
            m.Success.Should().BeTrue(body);
            seen.Add(m.Groups["ip"].Value);
        }

        seen.Should().BeEquivalentTo(ips.Where(ip => !ip.EndsWith(".7", StringComparison.Ordinal)), "11 healthy tasks, more than DNS's 8, and not the unhealthy one");
        lo.Dns.QueryCount.Should().Be(0, "nothing falls back to DNS");
    }

    [GeneratedRegex(@"\(from \S+ (?<ip>[\d.]+)\)$")]
    private static partial Regex NameIp();
}
