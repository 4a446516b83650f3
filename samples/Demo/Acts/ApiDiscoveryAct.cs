using System.Globalization;
using Amazon.Runtime;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Samples.Hello;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 8: a second hello discovers name through the Cloud Map API (the Testing package's fake): 12 tasks, one turning unhealthy, then throttling.</summary>
/// <remarks>
/// DNS answers with 8 records at most; the API lists every task with its health. A health change does not move the
/// revision, so this hello reads the whole list every <see cref="HealthRefresh"/> (30 s by default).
/// </remarks>
internal sealed class ApiDiscoveryAct : IDemoAct
{
    /// <summary>The name tasks this act registers in the API fake, on addresses of their own.</summary>
    public static readonly string[] Tasks = [.. Enumerable.Range(10, 12).Select(i => $"127.0.0.{i}")];

    private const string Sick = "127.0.0.13";
    private static readonly TimeSpan HealthRefresh = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Throttling = TimeSpan.FromSeconds(6);

    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        run.Client.Current = null; // no traffic while this act's world starts
        await using var cloudMap = CloudMapApiTestServer.Start();
        foreach (var ip in Tasks)
        {
            await run.Cluster.StartTaskAsync(ip);
            cloudMap.RegisterInstance("internal", Cluster.ServiceName, Id(ip), new Dictionary<string, string>
            {
                ["AWS_INSTANCE_IPV4"] = ip,
                ["AWS_INSTANCE_PORT"] = run.Cluster.NamePort.ToString(CultureInfo.InvariantCulture),
                ["AVAILABILITY_ZONE"] = "eu-west-1a",
            });
        }

        var port = Ports.Choose(0, ["127.0.0.1"]);
        await using var hello = BuildHello(run, cloudMap, port);
        await hello.StartAsync(ct);
        run.Watch(hello.Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>(), Tasks, "api");
        run.Client.Retarget(new Uri($"http://127.0.0.1:{port}/"));
        var warm = await run.Client.GetAsync(string.Empty, ct);
        run.Event($"{Tasks.Length} name tasks on 127.0.0.10-.21 registered in the Cloud Map API fake ({cloudMap.ServiceUrl}); a hello with Source = Api on 127.0.0.1:{port}, warm-up {(int)warm.Status}");

        var act = run.Begin(8, "Through the Cloud Map API", $"all {Tasks.Length} tasks take requests (DNS answers with 8 at most); {Sick} turns unhealthy and gets none after that; {Throttling.TotalSeconds:0} s of throttling fail no request", ActPolicy.Strict);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        var reached = Tasks.Count(ip => act.ServedBy().GetValueOrDefault(ip) > 0);

        cloudMap.SetHealthStatus("internal", Cluster.ServiceName, Id(Sick), CloudMapHealthStatus.Unhealthy);
        run.Event($"Cloud Map: {Sick} reports UNHEALTHY (the revision does not move; hello reads the whole list every {HealthRefresh.TotalSeconds:0} s)");
        await Task.Delay(HealthRefresh + DemoApp.DemoMinTtl + TimeSpan.FromSeconds(1.5), ct);
        var sickBefore = act.ServedBy().GetValueOrDefault(Sick);

        var calls = Calls(cloudMap);
        cloudMap.InjectFault(new CloudMapApiFault(CloudMapApiFaultKind.RequestLimitExceeded));
        run.Event("Cloud Map throttles every call (RequestLimitExceeded)");
        await Task.Delay(Throttling, ct);
        cloudMap.ClearFaults();
        var throttled = Calls(cloudMap) - calls;
        run.Event($"throttling over: {throttled} API call(s) refused meanwhile");
        await Task.Delay(TimeSpan.FromSeconds(1), ct);
        run.End(act, () =>
        {
            var sickAfter = act.ServedBy().GetValueOrDefault(Sick) - sickBefore;
            var fine = reached == Tasks.Length && sickAfter == 0 && throttled > 0;
            return (fine, $"{reached} of {Tasks.Length} tasks served requests; {Sick} served {sickAfter} once its health was read; {throttled} throttled API call(s) cost no request");
        });
        run.Client.Current = null; // this hello and its tasks stop with the act
        foreach (var ip in Tasks)
        {
            await run.Cluster.KillTaskAsync(ip);
        }
    }

    private static WebApplication BuildHello(DemoRun run, CloudMapApiTestServer cloudMap, int port) => HelloApp.Build(["--urls", $"http://127.0.0.1:{port}"], b =>
    {
        b.Logging.ClearProviders();
        b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [HelloApp.NameServerKey] = $"http://{DemoRun.Host}:{run.Cluster.NamePort}/",
            ["CloudMapDiscovery:Source"] = "Api",
            ["CloudMapDiscovery:MinTtl"] = DemoApp.DemoMinTtl.ToString("c", CultureInfo.InvariantCulture),
            ["CloudMapDiscovery:Api:Region"] = "eu-west-1",
            ["CloudMapDiscovery:Api:ServiceUrl"] = cloudMap.ServiceUrl.ToString(),
            ["CloudMapDiscovery:Api:HealthRefreshInterval"] = HealthRefresh.ToString("c", CultureInfo.InvariantCulture),
        });

        // The fake checks that calls are signed, not by whom: demo keys, never real ones.
        b.Services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDDEMO", "demo-secret"));
    });

    private static string Id(string ip) => $"task-{ip[(ip.LastIndexOf('.') + 1)..]}";

    private static int Calls(CloudMapApiTestServer cloudMap) => cloudMap.GetCallCount("DiscoverInstancesRevision") + cloudMap.GetCallCount("DiscoverInstances");
}
