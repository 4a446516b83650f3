using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// Where the handler's added cost goes: the individual steps it takes per request, each timed on its own next
/// to creating the request message both pipelines pay for anyway (the baseline). Explains the gap between
/// <see cref="HandlerOverheadBenchmarks"/> and issue 4's 150 ns target on this machine.
/// </summary>
[MemoryDiagnoser]
public class HandlerStepBenchmarks
{
    private static readonly Uri Original = new("http://name.internal:3000/name?x=1");
    private const string Prefix = "http://127.0.0.2:3000";

    private PickFixture _f = null!;

    [GlobalSetup]
    public void Setup() => _f = PickFixture.StartAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _f.Dispose();

    /// <summary>What both pipelines pay: a new request message.</summary>
    [Benchmark(Baseline = true)]
    public HttpRequestMessage NewRequestMessage() => new(HttpMethod.Get, Original);

    /// <summary>Plus the Host header the handler sets (the first header allocates the header store).</summary>
    [Benchmark]
    public HttpRequestMessage NewRequestMessage_PlusHostHeader()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Original);
        request.Headers.Host = Original.IdnHost + ":" + Original.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return request;
    }

    /// <summary>Plus an Options lookup (the first access to Options allocates its dictionary): why the handler has no per-request switch.</summary>
    [Benchmark]
    public bool NewRequestMessage_PlusOptionsCheck()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Original);
        return request.Options.TryGetValue(CloudMapRequestOptions.AllowRetryAfterSend, out _);
    }

    /// <summary>The rewritten target: cached "scheme://ip:port" prefix + path and query + fragment, parsed as a Uri.</summary>
    [Benchmark]
    public Uri RewrittenUri() => new(Prefix + Original.PathAndQuery + Original.Fragment);

    /// <summary>The AWS sample's way: UriBuilder with the address as host.</summary>
    [Benchmark]
    public Uri UriBuilderRewrite() => new UriBuilder(Original) { Host = "127.0.0.2" }.Uri;

    /// <summary>One clock read, which ServiceEntry.GetAsync makes per request to check freshness.</summary>
    [Benchmark]
    public long ClockRead() => TimeProvider.System.GetTimestamp();

    /// <summary>The raw monotonic clock under it.</summary>
    [Benchmark]
    public long StopwatchGetTimestamp() => Stopwatch.GetTimestamp();

    /// <summary>EndpointCache.GetEntry: the per-host dictionary lookup.</summary>
    [Benchmark]
    public object GetEntryLookup() => _f.Cache.GetEntry(Zone.ServiceName, DiscoveryRecordTypes.A);

    /// <summary>The warm pick, for scale.</summary>
    [Benchmark]
    public object? WarmPick() => _f.WarmPick();
}
