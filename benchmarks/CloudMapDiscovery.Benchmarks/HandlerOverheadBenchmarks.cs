using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// The target: the handler adds at most 150 ns and one Uri worth of allocation per request. Two
/// IHttpClientFactory clients, identical except for <c>AddCloudMapDiscovery()</c>, both ending in an in-memory
/// primary handler that returns one cached 200 response, so only the pipeline is measured (no sockets).
/// </summary>
[MemoryDiagnoser]
public class HandlerOverheadBenchmarks
{
    private static readonly Uri Target = new("http://name.internal:3000/name?x=1");

    private DnsTestServer _dns = null!;
    private ServiceProvider _services = null!;
    private HttpClient _plain = null!;
    private HttpClient _discovery = null!;

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not wait for a Task-returning GlobalSetup.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _dns = await Zone.StartAsync(TimeSpan.FromSeconds(60));
        var services = new ServiceCollection();
        services.AddHttpClient("plain")
            .ConfigurePrimaryHttpMessageHandler(() => new CachedResponseHandler());
        services.AddHttpClient("discovery")
            .ConfigurePrimaryHttpMessageHandler(() => new CachedResponseHandler())
            .AddCloudMapDiscovery(o => o.NameServers.Add(_dns.EndPoint.ToString()));
        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _plain = factory.CreateClient("plain");
        _discovery = factory.CreateClient("discovery");

        // Warm: the first request resolves name.internal; later ones find it in the cache.
        await WithDiscovery();
        var before = _dns.QueryCount;
        for (var i = 0; i < 100; i++)
        {
            await WithDiscovery();
        }

        if (_dns.QueryCount != before)
        {
            throw new InvalidOperationException("the warm path asked DNS again");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _discovery.Dispose();
        _services.Dispose();
        _dns.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<HttpResponseMessage> WithoutDiscovery()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Target);
        return await _plain.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    [Benchmark]
    public async Task<HttpResponseMessage> WithDiscovery()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Target);
        return await _discovery.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}

/// <summary>An in-memory primary handler: the same completed task with one 200 response, every time.</summary>
internal sealed class CachedResponseHandler : HttpMessageHandler
{
    private readonly Task<HttpResponseMessage> _response = Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => _response;
}

/// <summary>An in-memory primary handler that makes a fresh small 200 response per request (readable and disposable by the caller).</summary>
internal sealed class FreshResponseHandler : HttpMessageHandler
{
    private static readonly byte[] Body = "Sophia (from 127.0.0.2)"u8.ToArray();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(Body), RequestMessage = request });
}
