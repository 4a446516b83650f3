using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Http;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// Where the handler's added cost goes, layer by layer: an <see cref="HttpMessageInvoker"/> over the in-memory
/// handler (the baseline), then with a do-nothing <see cref="DelegatingHandler"/> on top, then with a handler that
/// only adds and removes a Host header (the floor for anything that keeps the original host), then with the
/// discovery handler itself. No HttpClient, logging or factory handlers around them, so the differences are the
/// layers' own.
/// </summary>
[MemoryDiagnoser]
public class HandlerLayerBenchmarks
{
    private static readonly Uri Target = new("http://name.internal:3000/name?x=1");

    private PickFixture _f = null!;
    private HttpMessageInvoker _bare = null!;
    private HttpMessageInvoker _passThrough = null!;
    private HttpMessageInvoker _hostOnly = null!;
    private HttpMessageInvoker _discovery = null!;

    [GlobalSetup]
    public void Setup()
    {
        _f = PickFixture.StartAsync().GetAwaiter().GetResult();
        _bare = new HttpMessageInvoker(new CachedResponseHandler());
        _passThrough = new HttpMessageInvoker(new PassThroughHandler { InnerHandler = new CachedResponseHandler() });
        _hostOnly = new HttpMessageInvoker(new HostHeaderOnlyHandler { InnerHandler = new CachedResponseHandler() });
        _discovery = new HttpMessageInvoker(new CloudMapDiscoveryHandler(_f.Cache, new HostMatcher(_f.Settings.Targeting), _f.Settings.Http, _f.Context, "bench") { InnerHandler = new CachedResponseHandler() });
        Send(_discovery).GetAwaiter().GetResult(); // the handler remembers the (already warm) entry from here on
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bare.Dispose();
        _passThrough.Dispose();
        _hostOnly.Dispose();
        _discovery.Dispose();
        _f.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<HttpResponseMessage> Bare() => Send(_bare);

    [Benchmark]
    public Task<HttpResponseMessage> PlusPassThroughHandler() => Send(_passThrough);

    [Benchmark]
    public Task<HttpResponseMessage> PlusHostHeaderOnly() => Send(_hostOnly);

    [Benchmark]
    public Task<HttpResponseMessage> PlusDiscovery() => Send(_discovery);

    // Not disposed: disposing the request is the caller's business and costs the same in every row.
    private static Task<HttpResponseMessage> Send(HttpMessageInvoker invoker) => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Target), CancellationToken.None);

    private sealed class PassThroughHandler : DelegatingHandler;

    /// <summary>What any handler that keeps the original host must do: add Host unless the caller set it, remove it after.</summary>
    private sealed class HostHeaderOnlyHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = request.Headers;
            var added = headers.Host is null;
            if (added)
            {
                headers.TryAddWithoutValidation("Host", "name.internal:3000");
            }

            var sent = base.SendAsync(request, cancellationToken);
            if (added)
            {
                headers.Host = null;
            }

            return sent;
        }
    }
}

/// <summary>
/// The discovery handler's steps one by one, each on its own, so the layer figures above can be read: what the
/// fresh path does per request, and what it no longer does (a clock read, the cache's hash lookup, a Uri parse).
/// </summary>
[MemoryDiagnoser]
public class HandlerStepBenchmarks
{
    private static readonly Uri Original = new("http://name.internal:3000/name?x=1");
    private const string Prefix = "http://127.0.0.2:3000";

    private PickFixture _f = null!;

    private HostCache _route = null!;

    [GlobalSetup]
    public void Setup()
    {
        _f = PickFixture.StartAsync().GetAwaiter().GetResult();
        _route = new HostCache(Original.IdnHost, Original.Port, _f.Entry);
    }

    [GlobalCleanup]
    public void Cleanup() => _f.Dispose();

    /// <summary>What every pipeline pays anyway: a new request message.</summary>
    [Benchmark(Baseline = true)]
    public HttpRequestMessage NewRequestMessage() => new(HttpMethod.Get, Original);

    /// <summary>The remembered-entry check that replaces host matching and the cache lookup for a repeated host.</summary>
    [Benchmark]
    public bool SameHostCheck() => string.Equals(Original.IdnHost, _f.Entry.Key.Host, StringComparison.Ordinal);

    /// <summary>The freshness check of a warm entry: two field reads, no clock.</summary>
    [Benchmark]
    public object? FreshCheck() => _f.Entry.TryGetFresh(out var set) ? set : null;

    /// <summary>The round-robin pick.</summary>
    [Benchmark]
    public object? Pick() => _f.Entry.Pick(_f.Set, null);

    /// <summary>The cached Host header value.</summary>
    [Benchmark]
    public string HostHeaderValue() => _route.HostHeaderFor(Original);

    /// <summary>The rewritten URI, reused while the scheme, port and path repeat.</summary>
    [Benchmark]
    public Uri CachedRewrite() => EndpointUriCache.Of(_f.Set.Endpoints[0]).Rewrite(Original);

    /// <summary>A rewrite to a new path: cached "scheme://ip:port" prefix + path and query + fragment, parsed as a Uri.</summary>
    [Benchmark]
    public Uri RewrittenUriParse() => new(Prefix + Original.PathAndQuery + Original.Fragment);

    /// <summary>The AWS sample's way, for comparison: UriBuilder with the address as host.</summary>
    [Benchmark]
    public Uri UriBuilderRewrite() => new UriBuilder(Original) { Host = "127.0.0.2" }.Uri;

    /// <summary>One clock read, which the fresh path no longer makes.</summary>
    [Benchmark]
    public long ClockRead() => TimeProvider.System.GetTimestamp();

    /// <summary>The raw monotonic clock under it.</summary>
    [Benchmark]
    public long StopwatchGetTimestamp() => Stopwatch.GetTimestamp();

    /// <summary>BalancingPartition.GetBalancer, the per-host hash lookup the remembered route skips.</summary>
    [Benchmark]
    public object GetEntryLookup() => _f.Cache.GetBalancer(Zone.ServiceName, DiscoveryRecordTypes.A);

    /// <summary>Adding Host to a fresh request's headers and removing it again (allocates the header store).</summary>
    [Benchmark]
    public HttpRequestMessage NewRequestMessage_PlusHostHeaderAddRemove()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Original);
        var headers = request.Headers;
        if (headers.Host is null)
        {
            headers.TryAddWithoutValidation("Host", "name.internal:3000");
        }

        headers.Host = null;
        return request;
    }
}
