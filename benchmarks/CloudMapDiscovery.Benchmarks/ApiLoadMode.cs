using System.Diagnostics;
using Amazon.Runtime;
using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>apiload</c>: API calls per name per minute in steady state. A paced stream of requests through
/// <c>AddCloudMapDiscovery().UseCloudMapApi()</c>, spread over several names of the in-process Cloud Map (nothing
/// changes meanwhile), real clock, default options (<c>MinTtl</c> 5 s, <c>HealthRefreshInterval</c> 30 s); the fake
/// counts each operation's calls. Target: at most one revision call per MinTtl and one full call per
/// HealthRefreshInterval per name.
/// </summary>
internal static class ApiLoadMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = LoadMode.Option(args, "--seconds", 60);
        var names = (int)LoadMode.Option(args, "--names", 4);
        var rate = LoadMode.Option(args, "--rate", 200);

        await using var cloudMap = CloudMapApiTestServer.Start();
        for (var n = 0; n < names; n++)
        {
            for (var t = 0; t < 12; t++)
            {
                cloudMap.RegisterInstance("internal", $"svc{n}", $"task-{t}", new Dictionary<string, string>
                {
                    ["AWS_INSTANCE_IPV4"] = $"127.0.{n}.{t + 2}",
                    ["AWS_INSTANCE_PORT"] = "8080",
                    ["AVAILABILITY_ZONE"] = "eu-west-1a",
                });
            }
        }

        var services = new ServiceCollection();
        services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDBENCHMARK", "benchmark-secret"));
        services.AddHttpClient("api").AddCloudMapDiscovery()
            .UseCloudMapApi(o => { o.Region = "eu-west-1"; o.ServiceUrl = cloudMap.ServiceUrl.ToString(); o.MaxCallsPerSecond = 100; })
            .ConfigurePrimaryHttpMessageHandler(() => new FreshResponseHandler());
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        var uris = Enumerable.Range(0, names).Select(n => new Uri($"http://svc{n}.internal:8080/")).ToArray();

        Console.WriteLine($"apiload: {rate:N0} req/s for {seconds} s over {names} names of 12 instances, default MinTtl and HealthRefreshInterval, fake at {cloudMap.ServiceUrl}");
        var stopwatch = Stopwatch.StartNew();
        long sent = 0, failed = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var due = (long)(stopwatch.Elapsed.TotalSeconds * rate);
            for (; sent < due; sent++)
            {
                try
                {
                    using var response = await client.GetAsync(uris[sent % names]);
                }
                catch (HttpRequestException)
                {
                    failed++;
                }
            }

            await Task.Delay(5);
        }

        var minutes = stopwatch.Elapsed.TotalMinutes;
        var revisions = cloudMap.GetCallCount(CloudMapApiClient.DiscoverInstancesRevision);
        var fulls = cloudMap.GetCallCount(CloudMapApiClient.DiscoverInstances);
        Console.WriteLine($"requests {sent:N0}, failed {failed}; DiscoverInstancesRevision {revisions}, DiscoverInstances {fulls} in {stopwatch.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine($"per name per minute: {revisions / names / minutes:0.0} revision calls (bound {60.0 / 5:0}), {fulls / names / minutes:0.0} full calls (bound {60.0 / 30:0} + the first)");
        return failed == 0 ? 0 : 1;
    }
}
