using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// Issue 3's target: a warm pick costs at most 20 ns and allocates nothing. The baseline is the cheapest
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

    /// <summary>ServiceEntry.Pick alone (RoundRobinPicker over the current snapshot, healthy endpoints).</summary>
    [Benchmark]
    public object? Pick() => _f.Entry.Pick(_f.Set, null);

    /// <summary>The warm pick: ServiceEntry.GetAsync (synchronous ValueTask while fresh) then Pick. Issue 3's 20 ns target.</summary>
    [Benchmark]
    public object? GetAsyncAndPick() => _f.WarmPick();

    /// <summary>What the handler does per request: look the entry up by host name, then the warm pick.</summary>
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

/// <summary>A warm endpoint cache for <c>name.internal</c> with three task addresses, served by the Testing DNS server.</summary>
internal sealed class PickFixture : IDisposable
{
    private readonly DnsTestServer _dns;
    private readonly EndpointCacheRegistry _registry;
    private object[] _referenceSnapshot = [new object(), new object(), new object()];
    private uint _referenceCounter;

    private PickFixture(DnsTestServer dns, EndpointCacheRegistry registry, EndpointCache cache, ServiceEntry entry, EndpointSet set)
    {
        _dns = dns;
        _registry = registry;
        Cache = cache;
        Entry = entry;
        Set = set;
    }

    public EndpointCache Cache { get; }

    public ServiceEntry Entry { get; }

    public EndpointSet Set { get; }

    public static async Task<PickFixture> StartAsync()
    {
        // TTL 60 s (capped by MaxTtl 60 s): the entry stays fresh; a background refresh every 45-54 s is real life.
        var dns = await Zone.StartAsync(TimeSpan.FromSeconds(60));
        var registry = new EndpointCacheRegistry();
        var options = new CloudMapDiscoveryOptions();
        options.NameServers.Add(dns.EndPoint.ToString());
        var cache = registry.GetCache(options);
        var entry = cache.GetEntry(Zone.ServiceName, DiscoveryRecordTypes.A);
        var set = await entry.GetAsync(CancellationToken.None);
        if (set.Endpoints.Length != 3 || !entry.GetAsync(CancellationToken.None).IsCompletedSuccessfully)
        {
            throw new InvalidOperationException($"expected a warm entry with 3 endpoints, got {set.Endpoints.Length}");
        }

        return new PickFixture(dns, registry, cache, entry, set);
    }

    public object ReferencePick()
    {
        var snapshot = Volatile.Read(ref _referenceSnapshot);
        return snapshot[Interlocked.Increment(ref _referenceCounter) % (uint)snapshot.Length];
    }

    public object? WarmPick()
    {
        var pending = Entry.GetAsync(CancellationToken.None);
        var set = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        return Entry.Pick(set, null);
    }

    public object? LookupAndPick()
    {
        var entry = Cache.GetEntry(Zone.ServiceName, DiscoveryRecordTypes.A);
        var pending = entry.GetAsync(CancellationToken.None);
        var set = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        return entry.Pick(set, null);
    }

    public void Dispose()
    {
        _registry.Dispose();
        _dns.Dispose();
    }
}
