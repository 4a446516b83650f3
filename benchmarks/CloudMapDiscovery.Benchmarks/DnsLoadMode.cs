using System.Diagnostics;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>dnsload</c>: the promise "TTL 0 and 10,000 requests per second: at most one query per name per MinTtl".
/// Two names (<c>name.internal</c>, <c>hello.internal</c>) with A records at TTL 0, <c>MinTtl</c> 5 s, and a
/// paced stream of requests through the handler, alternating between the names. By default the primary handler
/// is in memory so that the requested rate is reached exactly (the DNS side does not depend on it); with
/// <c>--kestrel</c> the requests go to the three Kestrel tasks instead and the rate is whatever loopback allows.
/// Reports every query's arrival time at the DNS server and queries per name per MinTtl.
/// </summary>
internal static class DnsLoadMode
{
    private static readonly string[] Names = ["name", "hello"];

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = LoadMode.Option(args, "--rate", 10_000);
        var seconds = LoadMode.Option(args, "--seconds", 10);
        var minTtl = TimeSpan.FromSeconds(LoadMode.Option(args, "--min-ttl", 5));
        var kestrel = args.Contains("--kestrel");
        var workers = (int)LoadMode.Option(args, "--workers", kestrel ? 8 : 2);

        await using var farm = kestrel ? await NameServiceFarm.StartAsync() : null;
        using var dns = await Zone.StartAsync();
        dns.SetAddresses("hello", TimeSpan.Zero, NameServiceFarm.TaskAddresses);
        var port = farm?.Port ?? 3000;
        using var client = new CloudMapClient(dns, port, o => o.MinTtl = minTtl, kestrel ? null : () => new FreshResponseHandler());
        var uris = Names.Select(n => new Uri($"http://{n}.internal:{port}/")).ToArray();

        Console.WriteLine($"dnsload: target {rate:N0} req/s for {seconds} s through AddCloudMapDiscovery ({(kestrel ? "3 Kestrel tasks on loopback" : "in-memory primary handler")}), " +
                          $"{workers} workers; names {string.Join(", ", Names.Select(n => n + ".internal"))} A TTL 0; MinTtl {minTtl.TotalSeconds} s");

        long sent = 0, failed = 0;
        var arrivals = Names.ToDictionary(n => n, _ => new List<double>());
        var stopwatch = Stopwatch.StartNew();
        var duration = TimeSpan.FromSeconds(seconds);

        // Watch the server's per-name counters every 10 ms, to timestamp each query.
        var watcher = Task.Run(async () =>
        {
            var seen = Names.ToDictionary(n => n, _ => 0);
            while (stopwatch.Elapsed < duration + TimeSpan.FromMilliseconds(100))
            {
                foreach (var n in Names)
                {
                    var count = dns.GetQueryCount(n, DnsRecordType.A);
                    for (; seen[n] < count; seen[n]++)
                    {
                        arrivals[n].Add(stopwatch.Elapsed.TotalSeconds);
                    }
                }

                await Task.Delay(10);
            }
        });

        var perSecond = new List<(long Requests, int Queries)>();
        var reporter = Task.Run(async () =>
        {
            long lastSent = 0;
            var lastQueries = 0;
            for (var s = 1; s <= (int)Math.Ceiling(seconds); s++)
            {
                await Task.Delay(TimeSpan.FromSeconds(s) - stopwatch.Elapsed);
                var nowSent = Interlocked.Read(ref sent);
                var nowQueries = dns.QueryCount;
                perSecond.Add((nowSent - lastSent, nowQueries - lastQueries));
                lastSent = nowSent;
                lastQueries = nowQueries;
            }
        });

        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (true)
            {
                var elapsed = stopwatch.Elapsed;
                if (elapsed >= duration)
                {
                    return;
                }

                // Pace: never more than rate x elapsed requests so far; bursts of about a millisecond's worth.
                var ticket = Interlocked.Increment(ref sent);
                if (ticket > (long)(elapsed.TotalSeconds * rate) + 1)
                {
                    Interlocked.Decrement(ref sent);
                    await Task.Delay(1);
                    continue;
                }

                try
                {
                    using var response = await client.Http.GetAsync(uris[ticket % uris.Length]);
                    response.EnsureSuccessStatusCode();
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToArray();

        await Task.WhenAll(tasks);
        var total = stopwatch.Elapsed;
        await Task.WhenAll(reporter, watcher);

        Console.WriteLine();
        Console.WriteLine("| second | requests | DNS queries |");
        Console.WriteLine("|---:|---:|---:|");
        for (var i = 0; i < perSecond.Count; i++)
        {
            Console.WriteLine($"| {i + 1} | {perSecond[i].Requests:N0} | {perSecond[i].Queries} |");
        }

        Console.WriteLine();
        var achieved = Interlocked.Read(ref sent) / total.TotalSeconds;
        Console.WriteLine($"requests: {Interlocked.Read(ref sent):N0} in {total.TotalSeconds:0.00} s = {achieved:N0} req/s, {failed} failed");
        var windows = total.TotalSeconds / minTtl.TotalSeconds;
        foreach (var n in Names)
        {
            var times = arrivals[n];
            var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToArray();
            Console.WriteLine($"{n}.internal: {times.Count} queries (first at {times.FirstOrDefault():0.000} s, then at {string.Join(", ", times.Skip(1).Select(t => t.ToString("0.000") + " s"))}); " +
                              $"{times.Count / windows:0.00} per MinTtl window over {windows:0.#} windows; gap between refreshes {(gaps.Length > 0 ? $"{gaps.Min():0.00}-{gaps.Max():0.00} s" : "n/a")}");
        }

        Console.WriteLine($"all names: {dns.QueryCount} queries = {dns.QueryCount / total.TotalSeconds:0.00} queries/s while sending {achieved:N0} req/s " +
                          $"(the AWS sample's client would send one query per request: {achieved:N0} queries/s)");
        return failed == 0 ? 0 : 1;
    }
}
