using System.Diagnostics;
using System.Globalization;
using CloudMapDiscovery.Benchmarks.Infrastructure;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>load</c>: throughput and per-address split of the four clients of <see cref="WholeRequestBenchmarks"/>,
/// under concurrency, against the same three Kestrel tasks. The clients run in interleaved rounds (c, ours, a,
/// b, c, ours, ...) so that noise from other work on the machine falls on all of them alike; every figure is
/// the sum over its rounds and is reported as a ratio to (c) from the same run.
/// </summary>
internal static class LoadMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 8.0);
        var concurrency = (int)Option(args, "--concurrency", 8);
        var rounds = (int)Option(args, "--rounds", 4);
        var perRound = TimeSpan.FromSeconds(seconds / rounds); // per client: each client runs `seconds` in total

        await using var farm = await NameServiceFarm.StartAsync();
        using var dns = await Zone.StartAsync();
        INameClient[] clients =
        [
            new HardWiredClient(farm.Port),
            new FactoryHardWiredClient(farm.Port),
            new CloudMapClient(dns, farm.Port),
            new PlainHostNameClient(dns, farm.Port),
            new NaiveSampleClient(dns, farm.Port),
        ];

        Console.WriteLine($"load: {clients.Length} clients x {rounds} interleaved rounds of {perRound.TotalSeconds:0.##} s, {concurrency} concurrent requests each, " +
                          $"3 Kestrel tasks on {string.Join("/", NameServiceFarm.TaskAddresses.Select(a => a.ToString()))}:{farm.Port}, name.internal A TTL 0 (MinTtl 5 s)");
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores, .NET {Environment.Version}; clients, servers and DNS share this process");

        var requests = new long[clients.Length];
        var failures = new long[clients.Length];
        var elapsed = new TimeSpan[clients.Length];
        var split = clients.Select(_ => new long[NameServiceFarm.TaskAddresses.Length]).ToArray();
        var queries = new long[clients.Length];

        // Warm every client (connections, JIT, the first DNS answer) before anything is counted.
        foreach (var client in clients)
        {
            await Drive(client, concurrency, TimeSpan.FromSeconds(0.5));
        }

        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < clients.Length; i++)
            {
                farm.ResetCounts();
                dns.ResetCounts();
                var (ok, failed, time) = await Drive(clients[i], concurrency, perRound);
                requests[i] += ok;
                failures[i] += failed;
                elapsed[i] += time;
                queries[i] += dns.QueryCount;
                var served = farm.Served();
                for (var k = 0; k < served.Length; k++)
                {
                    split[i][k] += served[k];
                }
            }
        }

        var floor = requests[0] / elapsed[0].TotalSeconds;
        Console.WriteLine();
        Console.WriteLine("| client | req/s | ratio to (c) | failed | DNS queries/s | 127.0.0.2 | 127.0.0.3 | 127.0.0.4 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < clients.Length; i++)
        {
            var rate = requests[i] / elapsed[i].TotalSeconds;
            var total = Math.Max(1, split[i].Sum());
            var cells = string.Join(" | ", split[i].Select(c => $"{c} ({100.0 * c / total:0.0} %)"));
            Console.WriteLine($"| {clients[i].Label} | {rate:N0} | {rate / floor:0.000} | {failures[i]} | {queries[i] / elapsed[i].TotalSeconds:N1} | {cells} |");
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }

        return failures.Sum() == 0 ? 0 : 1;
    }

    private static async Task<(long Ok, long Failed, TimeSpan Elapsed)> Drive(INameClient client, int concurrency, TimeSpan duration)
    {
        long ok = 0, failed = 0;
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (stopwatch.Elapsed < duration)
            {
                try
                {
                    await client.GetNameAsync();
                    Interlocked.Increment(ref ok);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return (ok, failed, stopwatch.Elapsed);
    }

    internal static double Option(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
