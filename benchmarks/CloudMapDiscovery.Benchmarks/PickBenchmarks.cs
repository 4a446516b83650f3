using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// The target: a warm pick costs at most 20 ns and allocates nothing. The baseline is the cheapest
/// correct round robin there is (an immutable array snapshot, Interlocked.Increment, modulo), the floor any
/// lock-free balancer pays. Our rows add, step by step, what the handler really does per request.
/// </summary>
[MemoryDiagnoser]
public class PickBenchmarks
{
    private PickFixture _f = null!;

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not wait for a Task-returning GlobalSetup.
    [GlobalSetup]
    public void Setup() => _f = PickFixture.StartAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _f.Dispose();

    /// <summary>The floor: array snapshot + Interlocked.Increment + modulo.</summary>
    [Benchmark(Baseline = true)]
    public object ReferenceRoundRobin() => _f.ReferencePick();

    /// <summary>ServiceBalancer.Pick alone (round robin over the current set, healthy endpoints).</summary>
    [Benchmark]
    public object? Pick() => _f.Entry.Pick(_f.Set, null);

    /// <summary>The warm pick: ServiceBalancer.TryGetFresh (one coarse clock read while fresh) then Pick. Target: 20 ns.</summary>
    [Benchmark]
    public object? GetAsyncAndPick() => _f.WarmPick();

    /// <summary>A handler whose host changed: look the balancer up by host name, then the warm pick.</summary>
    [Benchmark]
    public object? GetEntryGetAsyncAndPick() => _f.LookupAndPick();
}

/// <summary>
/// The same picks from two threads at once, sharing one service's counter (the realistic case: every request
/// to a service goes through one entry). Each thread makes <see cref="PicksPerThread"/> picks; the time shown
/// is the wall time per pick each thread sees. On a 2-core machine the two threads get a core each only when
/// nothing else runs, so expect more noise here than in <see cref="PickBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class ContendedPickBenchmarks
{
    public const int PicksPerThread = 100_000;

    private PickFixture _f = null!;

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not wait for a Task-returning GlobalSetup.
    [GlobalSetup]
    public void Setup() => _f = PickFixture.StartAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _f.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = PicksPerThread)]
    public void ReferenceRoundRobin_2Threads() => OnTwoThreads(static f =>
    {
        for (var i = 0; i < PicksPerThread; i++)
        {
            f.ReferencePick();
        }
    });

    [Benchmark(OperationsPerInvoke = PicksPerThread)]
    public void GetAsyncAndPick_2Threads() => OnTwoThreads(static f =>
    {
        for (var i = 0; i < PicksPerThread; i++)
        {
            f.WarmPick();
        }
    });

    [Benchmark(OperationsPerInvoke = PicksPerThread)]
    public void GetEntryGetAsyncAndPick_2Threads() => OnTwoThreads(static f =>
    {
        for (var i = 0; i < PicksPerThread; i++)
        {
            f.LookupAndPick();
        }
    });

    private void OnTwoThreads(Action<PickFixture> loop)
    {
        var f = _f;
        Parallel.Invoke(new ParallelOptions { MaxDegreeOfParallelism = 2 }, () => loop(f), () => loop(f));
    }
}

/// <summary>A warm balancer for <c>name.internal</c> with three task addresses, served by the Testing DNS server.</summary>
internal sealed class PickFixture : IDisposable
{
    private readonly DnsTestServer _dns;
    private readonly DiscoveryRegistry _resolutions;
    private readonly BalancerRegistry _balancers;
    private object[] _referenceSnapshot = [new object(), new object(), new object()];
    private uint _referenceCounter;

    private PickFixture(DnsTestServer dns, CloudMapContext context, CloudMapSettings settings, DiscoveryRegistry resolutions, BalancerRegistry balancers)
    {
        _dns = dns;
        Context = context;
        Settings = settings;
        _resolutions = resolutions;
        _balancers = balancers;
        Cache = balancers.GetCache(settings.Discovery, settings.Balancing);
        Entry = Cache.GetBalancer(Zone.ServiceName, DiscoveryRecordTypes.A);
    }

    public CloudMapContext Context { get; }

    public CloudMapSettings Settings { get; }

    public BalancingPartition Cache { get; }

    public ServiceBalancer Entry { get; }

    public BalancedSet Set { get; private set; } = BalancedSet.Empty;

    public static async Task<PickFixture> StartAsync()
    {
        // TTL 60 s (capped by MaxTtl 60 s): the entry stays fresh; a background refresh every 45-54 s is real life.
        var dns = await Zone.StartAsync(TimeSpan.FromSeconds(60));
        var options = new CloudMapDiscoveryOptions();
        options.NameServers.Add(dns.EndPoint.ToString());
        var context = new CloudMapContext();
        var resolutions = new DiscoveryRegistry(context);
        var fixture = new PickFixture(dns, context, CloudMapSettings.From(options), resolutions, new BalancerRegistry(resolutions));
        fixture.Set = await fixture.Entry.GetAsync(CancellationToken.None);
        if (fixture.Set.Endpoints.Length != 3 || !fixture.Entry.TryGetFresh(out _))
        {
            throw new InvalidOperationException($"expected a warm balancer with 3 endpoints, got {fixture.Set.Endpoints.Length}");
        }

        return fixture;
    }

    public object ReferencePick()
    {
        var snapshot = Volatile.Read(ref _referenceSnapshot);
        return snapshot[Interlocked.Increment(ref _referenceCounter) % (uint)snapshot.Length];
    }

    /// <summary>What the handler does per request once it remembers the service: the freshness check, then the pick.</summary>
    public object? WarmPick() => Pick(Entry);

    /// <summary>The same after a lookup of the service by host name.</summary>
    public object? LookupAndPick() => Pick(Cache.GetBalancer(Zone.ServiceName, DiscoveryRecordTypes.A));

    public void Dispose()
    {
        _balancers.Dispose();
        _resolutions.Dispose();
        Context.Dispose();
        _dns.Dispose();
    }

    private static BalancedEndpoint? Pick(ServiceBalancer balancer)
    {
        var set = balancer.TryGetFresh(out var fresh) ? fresh : balancer.GetAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return balancer.Pick(set, null);
    }
}
