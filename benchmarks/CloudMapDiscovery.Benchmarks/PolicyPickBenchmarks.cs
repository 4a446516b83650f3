using System.Globalization;
using System.Net;
using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// A warm pick under each policy over a healthy set of 3 and of 100 addresses: the balancer's <c>Pick</c> as the
/// handler calls it (trial check, available set, policy). Target for PowerOfTwoChoices and PeakEwma: at most 50 ns and
/// 0 B; RoundRobin is the baseline.
/// </summary>
[MemoryDiagnoser]
public class PolicyPickBenchmarks
{
    private PickFixture _f = null!;
    private BalancedSet _set = null!;
    private PickPolicy _p2c = null!;
    private PickPolicy _ewma = null!;

    [Params(3, 100)]
    public int Addresses { get; set; }

    // Synchronous on purpose: BenchmarkDotNet's in-process toolchain does not wait for a Task-returning GlobalSetup.
    [GlobalSetup]
    public void Setup()
    {
        _f = PickFixture.StartAsync().GetAwaiter().GetResult();
        _p2c = PickPolicy.For(LoadBalancingPolicy.PowerOfTwoChoices, _f.Context);
        _ewma = PickPolicy.For(LoadBalancingPolicy.PeakEwma, _f.Context);
        var endpoints = Enumerable.Range(0, Addresses)
            .Select(i => new BalancedEndpoint(new EndpointAddress(IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"10.0.{i / 250}.{(i % 250) + 1}")), null)))
            .ToArray();
        foreach (var e in endpoints)
        {
            e.Load.Seed(1 + Random.Shared.NextDouble(), _f.Context.CoarseNow()); // latency estimates of 1-2 ms
        }

        _set = new BalancedSet(1, endpoints, null);
    }

    [GlobalCleanup]
    public void Cleanup() => _f.Dispose();

    [Benchmark(Baseline = true)]
    public object? RoundRobin() => _f.Entry.Pick(_set, null, RoundRobinPolicy.Instance, panic: true);

    [Benchmark]
    public object? PowerOfTwoChoices() => _f.Entry.Pick(_set, null, _p2c, panic: true);

    [Benchmark]
    public object? PeakEwma() => _f.Entry.Pick(_set, null, _ewma, panic: true);
}
