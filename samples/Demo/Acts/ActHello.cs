using System.Globalization;
using CloudMapDiscovery.Samples.Hello;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>A hello of an act's own, discovering name.internal through the cluster's DNS with the act's settings.</summary>
internal static class ActHello
{
    /// <summary>Builds the hello on 127.0.0.1:<paramref name="port"/>; <paramref name="settings"/> are CloudMapDiscovery keys without the prefix.</summary>
    public static WebApplication Build(DemoRun run, int port, IReadOnlyDictionary<string, string> settings) => HelloApp.Build(["--urls", $"http://127.0.0.1:{port}"], b =>
    {
        b.Logging.ClearProviders();
        var config = new Dictionary<string, string?>
        {
            [HelloApp.NameServerKey] = $"http://{DemoRun.Host}:{run.Cluster.NamePort}/",
            ["CloudMapDiscovery:NameServers:0"] = run.Cluster.Dns.EndPoint.ToString(),
            ["CloudMapDiscovery:MinTtl"] = DemoApp.DemoMinTtl.ToString("c", CultureInfo.InvariantCulture),
            ["CloudMapDiscovery:DnsTimeout"] = "00:00:01",
        };
        foreach (var (key, value) in settings)
        {
            config[$"CloudMapDiscovery:{key}"] = value;
        }

        b.Configuration.AddInMemoryCollection(config);
    });
}
