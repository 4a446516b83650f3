using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// One GET at a time on loopback to three Kestrel "tasks" (127.0.0.2/.3/.4, one port) behind <c>name.internal</c>
/// (A records, TTL 0, as in the AWS sample). The baseline is (c), a client hard-wired to one address: no
/// discovery at all, the floor. Throughput under concurrency and the per-address split are in the <c>load</c>
/// mode; each case's split is also printed at its GlobalCleanup ("// distribution").
/// </summary>
[MemoryDiagnoser]
public class WholeRequestBenchmarks
{
    private NameServiceFarm _farm = null!;
    private DnsTestServer _dns = null!;
    private INameClient[] _clients = null!;
    private long[] _servedAtStart = [];

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not wait for a Task-returning GlobalSetup.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _farm = await NameServiceFarm.StartAsync();
        _dns = await Zone.StartAsync();
        _clients =
        [
            new HardWiredClient(_farm.Port),
            new CloudMapClient(_dns, _farm.Port),
            new PlainHostNameClient(_dns, _farm.Port),
            new NaiveSampleClient(_dns, _farm.Port),
        ];
        foreach (var client in _clients)
        {
            for (var i = 0; i < 10; i++)
            {
                await client.GetNameAsync();
            }
        }

        _servedAtStart = _farm.Served();
    }

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task CleanupAsync()
    {
        var served = _farm.Served().Zip(_servedAtStart, (a, b) => a - b).ToArray();
        Console.WriteLine($"// distribution (every request BenchmarkDotNet made in this case, its pilot and warm-up included): {NameServiceFarm.Describe(served)}; DNS queries {_dns.QueryCount}");
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _farm.DisposeAsync();
        _dns.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<string> C_HardWiredToOneIp() => _clients[0].GetNameAsync();

    [Benchmark]
    public Task<string> CloudMapDiscoveryHandler() => _clients[1].GetNameAsync();

    [Benchmark]
    public Task<string> A_PlainHttpClientOnHostName() => _clients[2].GetNameAsync();

    [Benchmark]
    public Task<string> B_NaiveSampleClient() => _clients[3].GetNameAsync();
}
