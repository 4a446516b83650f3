using System.Globalization;
using Amazon.Runtime;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>zones</c>: where requests go with zone-aware routing. Three zones of three loopback Kestrel tasks each, listed by
/// the in-process Cloud Map with their <c>AVAILABILITY_ZONE</c>; the caller is in zone a. Phases, each a stream of
/// sequential requests on the real clock: all healthy (zone routing off, then on); two of the three local tasks down;
/// all three down. Targets: at least 95 % local when healthy; the lone local task no more than its fair share (1/7),
/// 0 failed; 0 failed with the zone down. The bytes saved assume 1 KB requests and 10 KB responses.
/// </summary>
internal static class ZonesMode
{
    private static readonly string[] Zones = ["eu-west-1a", "eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b", "eu-west-1b", "eu-west-1c", "eu-west-1c", "eu-west-1c"];

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = (int)LoadMode.Option(args, "--requests", 3_000);
        var hits = new int[Zones.Length];
        await using var tasks = await LoopbackTasks.StartAsync(Zones.Length, HttpProtocols.Http1, null, (_, _) => { }, (app, index) => app.Run(context =>
        {
            Interlocked.Increment(ref hits[index]);
            return context.Response.WriteAsync("ok");
        }));
        await using var cloudMap = CloudMapApiTestServer.Start();
        for (var i = 0; i < Zones.Length; i++)
        {
            cloudMap.RegisterInstance("internal", "api", $"task-{i}", new Dictionary<string, string>
            {
                ["AWS_INSTANCE_IPV4"] = LoopbackTasks.Address(i).ToString(),
                ["AWS_INSTANCE_PORT"] = tasks.Port.ToString(CultureInfo.InvariantCulture),
                ["AVAILABILITY_ZONE"] = Zones[i],
            });
        }

        Console.WriteLine($"zones: 3 zones x 3 loopback Kestrel tasks, caller in eu-west-1a, {requests:N0} sequential requests per phase, Cloud Map fake at {cloudMap.ServiceUrl}");
        var failures = 0;
        var off = await PhaseAsync("all healthy, ZoneAware off", zoneAware: false, requests, hits, tasks, cloudMap, down: []);
        var on = await PhaseAsync("all healthy, ZoneAware on", zoneAware: true, requests, hits, tasks, cloudMap, down: []);
        var spill = await PhaseAsync("2 of 3 local tasks down", zoneAware: true, requests, hits, tasks, cloudMap, down: [0, 1]);
        var outage = await PhaseAsync("all 3 local tasks down", zoneAware: true, requests, hits, tasks, cloudMap, down: [0, 1, 2]);
        failures += off.Failed + on.Failed + spill.Failed + outage.Failed;

        // Bytes that cross a zone boundary per request: the 1 KB request one way and the 10 KB response back.
        const double bytesPerCall = 11 * 1024;
        var savedShare = on.Local - off.Local;
        var perMonthTb = savedShare * bytesPerCall * 1_000 * 30 * 86_400 / 1e12;
        Console.WriteLine();
        Console.WriteLine($"local share: {off.Local:P1} without, {on.Local:P1} with zone-aware routing (target >= 95 %)");
        Console.WriteLine($"2 of 3 local down: the lone local task took {spill.Task2:P1} (fair share of 7: {1.0 / 7:P1}), failed {spill.Failed}");
        Console.WriteLine($"all local down: failed {outage.Failed}, local share {outage.Local:P1}");
        Console.WriteLine($"cross-zone bytes saved at 1,000 req/s (1 KB + 10 KB): {perMonthTb:0.0} TB a month, ${perMonthTb * 1_000 * 0.02:0} at $0.01/GB each way");
        var met = on.Local >= 0.95 && spill.Task2 <= (1.0 / 7) + 0.01 && failures == 0;
        Console.WriteLine(met ? "targets met" : "targets NOT met");
        return met ? 0 : 1;
    }

    private static async Task<(double Local, double Task2, int Failed)> PhaseAsync(
        string name, bool zoneAware, int requests, int[] hits, LoopbackTasks tasks, CloudMapApiTestServer cloudMap, int[] down)
    {
        foreach (var i in down)
        {
            await tasks.KillAsync(i);
        }

        var services = new ServiceCollection();
        services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDBENCHMARK", "benchmark-secret"));
        services.AddHttpClient("api").AddCloudMapDiscovery(o => { o.Zone = "eu-west-1a"; o.ZoneAware = zoneAware; })
            .UseCloudMapApi(o => { o.Region = "eu-west-1"; o.ServiceUrl = cloudMap.ServiceUrl.ToString(); });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        var uri = new Uri($"http://api.internal:{tasks.Port}/");

        // Warm-up: the first answer, connections, and the down tasks found and ejected (their requests retried).
        var failed = await SendAsync(client, uri, 50);
        Array.Clear(hits);
        failed += await SendAsync(client, uri, requests);
        var total = (double)hits.Sum();
        var local = (hits[0] + hits[1] + hits[2]) / total;
        var perTask = string.Join(" ", hits.Select((h, i) => $"{(char)('a' + (i / 3))}{i % 3}:{h}"));
        Console.WriteLine($"{name,-30} local {local,7:P1}   failed {failed}   per task {perTask}");
        return (local, hits[2] / total, failed);
    }

    private static async Task<int> SendAsync(HttpClient client, Uri uri, int count)
    {
        var failed = 0;
        for (var i = 0; i < count; i++)
        {
            try
            {
                using var response = await client.GetAsync(uri);
                response.EnsureSuccessStatusCode();
            }
            catch (HttpRequestException)
            {
                failed++;
            }
        }

        return failed;
    }
}
