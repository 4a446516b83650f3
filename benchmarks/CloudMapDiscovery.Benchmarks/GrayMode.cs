using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>gray</c>: failures only responses and latency show, under each load-balancing policy, default settings otherwise,
/// requests paced on the real clock (default 80 req/s), no status retries by the caller:
/// (1) one of three tasks answers 500 for a while, then heals;
/// (2) one of three tasks answers 300 ms late;
/// (3) Linkerd's run: one of ten tasks answers 2 s late.
/// Reports per policy the bad task's share, p50 / p99 / p99.9 latency, the failure rate and (act 1) how long after
/// healing the task served its first good answer.
/// </summary>
internal static class GrayMode
{
    private static readonly LoadBalancingPolicy[] Policies = [LoadBalancingPolicy.RoundRobin, LoadBalancingPolicy.PowerOfTwoChoices, LoadBalancingPolicy.PeakEwma];

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = LoadMode.Option(args, "--rate", 80.0);
        var badSeconds = LoadMode.Option(args, "--bad-seconds", 30.0);
        var afterSeconds = LoadMode.Option(args, "--after-seconds", 35.0);
        var slowSeconds = LoadMode.Option(args, "--slow-seconds", 20.0);
        var acts = LoadMode.Option(args, "--acts", 123.0).ToString(CultureInfo.InvariantCulture);

        Console.WriteLine($"gray: {rate:0} req/s, default options but LoadBalancer; loopback Kestrel tasks on 127.0.0.x");
        Console.WriteLine("| act | policy | requests | bad task's share | failed | p50 | p99 | p99.9 | first good answer after healing |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var policy in Policies)
        {
            if (acts.Contains('1', StringComparison.Ordinal))
            {
                Console.WriteLine(await RunAsync("1/3 answers 500", 3, policy, rate, TimeSpan.FromSeconds(badSeconds), TimeSpan.FromSeconds(afterSeconds), 500, TimeSpan.Zero));
            }

            if (acts.Contains('2', StringComparison.Ordinal))
            {
                Console.WriteLine(await RunAsync("1/3 300 ms slow", 3, policy, rate, TimeSpan.FromSeconds(slowSeconds), TimeSpan.Zero, 0, TimeSpan.FromMilliseconds(300)));
            }

            if (acts.Contains('3', StringComparison.Ordinal))
            {
                Console.WriteLine(await RunAsync("1/10 at 2 s", 10, policy, rate, TimeSpan.FromSeconds(slowSeconds), TimeSpan.Zero, 0, TimeSpan.FromSeconds(2)));
            }
        }

        return 0;
    }

    private static async Task<string> RunAsync(string act, int tasks, LoadBalancingPolicy policy, double rate, TimeSpan bad, TimeSpan after, int status, TimeSpan delay)
    {
        await using var farm = await GrayFarm.StartAsync(tasks);
        using var dns = await DnsTestServer.StartAsync("internal");
        dns.SetAddresses("name", TimeSpan.FromSeconds(10), farm.Addresses);
        using var client = new CloudMapClient(dns, farm.Port, o => o.LoadBalancer = policy);
        var uri = new Uri($"http://{Zone.ServiceName}:{farm.Port}/");

        // Warm: every task connected and known before the act starts.
        for (var i = 0; i < tasks * 4; i++)
        {
            using var warm = await client.Http.GetAsync(uri);
        }

        farm.Set(0, status, delay);
        var results = new ConcurrentBag<(double At, double Ms, int Task, bool Ok)>();
        var interval = 1 / rate;
        var start = Stopwatch.GetTimestamp();
        var healed = false;
        var inFlight = new List<Task>();
        for (var i = 0; ; i++)
        {
            var at = i * interval;
            if (at >= (bad + after).TotalSeconds)
            {
                break;
            }

            if (!healed && at >= bad.TotalSeconds)
            {
                farm.Heal();
                healed = true;
            }

            var wait = TimeSpan.FromSeconds(at) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            inFlight.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                var sentAt = Stopwatch.GetElapsedTime(start).TotalSeconds;
                try
                {
                    using var response = await client.Http.GetAsync(uri);
                    var body = await response.Content.ReadAsStringAsync();
                    results.Add((sentAt, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, int.Parse(body, CultureInfo.InvariantCulture), response.IsSuccessStatusCode));
                }
                catch (HttpRequestException)
                {
                    results.Add((sentAt, Stopwatch.GetElapsedTime(t0).TotalMilliseconds, -1, false));
                }
            }));
        }

        await Task.WhenAll(inFlight);
        var during = results.Where(r => r.At < bad.TotalSeconds).ToList();
        var latencies = results.Select(r => r.Ms).Order().ToArray();
        var share = 100.0 * during.Count(r => r.Task == 0) / Math.Max(1, during.Count);
        var failed = 100.0 * results.Count(r => !r.Ok) / Math.Max(1, results.Count);
        var back = after > TimeSpan.Zero
            ? results.Where(r => r.Task == 0 && r.Ok && r.At >= bad.TotalSeconds).Select(r => r.At - bad.TotalSeconds).DefaultIfEmpty(double.NaN).Min()
            : double.NaN;
        var backText = double.IsNaN(back) ? (after > TimeSpan.Zero ? $"not within {after.TotalSeconds:0} s" : "-") : $"{back:0.0} s";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {act} | {policy} | {results.Count} | {share:0.0} % | {failed:0.00} % | {P(latencies, 0.5):0.0} ms | {P(latencies, 0.99):0.0} ms | {P(latencies, 0.999):0.0} ms | {backText} |");
    }

    private static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
