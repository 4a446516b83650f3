using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>blackhole</c>: request latency while a black-holed task address (SYNs dropped, as for a stopped Fargate task
/// still listed) is in DNS beside three live tasks, with the probes off (blind re-admission when an ejection ends,
/// the behaviour before probing) and on. Requests are paced like a service calling another (default 40 req/s), on
/// the real clock, with the default 2 s connect timeout. Reports latency percentiles over the whole run and after
/// the address was first found dead, and how many requests connected to it after that (target: 0).
/// </summary>
internal static class BlackHoleMode
{
    private static readonly IPAddress Hole = IPAddress.Parse("127.0.0.5");

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = LoadMode.Option(args, "--seconds", 40.0);
        var rate = LoadMode.Option(args, "--rate", 40.0);
        var ejection = TimeSpan.FromSeconds(LoadMode.Option(args, "--ejection", 5.0));

        await using var farm = await NameServiceFarm.StartAsync();
        using var hole = await BlackHoleListener.OpenAsync(new IPEndPoint(Hole, farm.Port));
        using var dns = await DnsTestServer.StartAsync("internal");
        dns.SetAddresses("name", TimeSpan.FromSeconds(10), [.. NameServiceFarm.TaskAddresses, Hole]);
        Console.WriteLine($"blackhole: {rate:0} req/s for {seconds:0} s per run, 3 live tasks + {Hole} black-holed on port {farm.Port}, ConnectTimeout 2 s, BaseEjectionTime {ejection.TotalSeconds:0.#} s");
        Console.WriteLine("| probes | requests | failed | p50 | p99 | max | after first found dead: p99 | max | requests that connected to it |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var probes in new[] { false, true })
        {
            var result = await RunOnceAsync(dns, farm.Port, probes, TimeSpan.FromSeconds(seconds), rate, ejection);
            Console.WriteLine(result);
        }

        return 0;
    }

    private static async Task<string> RunOnceAsync(DnsTestServer dns, int port, bool probes, TimeSpan duration, double rate, TimeSpan ejection)
    {
        var later = new ConcurrentQueue<long>();
        long foundDead = 0;
        var hole = Hole.ToString();
        var counter = new ConnectCounter(attempt =>
        {
            if (attempt.Host == hole)
            {
                later.Enqueue(attempt.StartedAt);
                if (attempt.Error is not null)
                {
                    Interlocked.CompareExchange(ref foundDead, attempt.StartedAt + (long)(attempt.Elapsed.TotalSeconds * Stopwatch.Frequency), 0);
                }
            }
        });
        using var client = new CloudMapClient(
            dns,
            port,
            o => (o.ProbeEjectedEndpoints, o.ProbeNewEndpoints, o.BaseEjectionTime, o.MaxEjectionTime) = (probes, probes, ejection, ejection * 6),
            () => counter.CreateHandler(TimeSpan.FromSeconds(2)));

        var latencies = new ConcurrentBag<(long Start, double Ms)>();
        var failed = 0;
        var interval = TimeSpan.FromSeconds(1 / rate);
        var start = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>();
        for (var i = 0; Stopwatch.GetElapsedTime(start) < duration; i++)
        {
            var due = start + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
            var wait = TimeSpan.FromSeconds((due - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            inFlight.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await client.GetNameAsync();
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }

                latencies.Add((t0, Stopwatch.GetElapsedTime(t0).TotalMilliseconds));
            }));
        }

        await Task.WhenAll(inFlight);
        var dead = Interlocked.Read(ref foundDead);
        var all = latencies.Select(l => l.Ms).Order().ToArray();
        var after = latencies.Where(l => dead != 0 && l.Start > dead).Select(l => l.Ms).Order().ToArray();
        var connectsAfter = later.Count(c => dead != 0 && c > dead);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {(probes ? "on" : "off (blind re-admission)")} | {all.Length} | {failed} | {P(all, 0.5):0.0} ms | {P(all, 0.99):0.0} ms | {P(all, 1):0.0} ms | {P(after, 0.99):0.0} ms | {P(after, 1):0.0} ms | {connectsAfter} |");
    }

    private static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
