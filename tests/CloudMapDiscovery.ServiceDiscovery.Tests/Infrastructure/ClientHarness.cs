using System.Globalization;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure;

/// <summary>
/// A user's setup: <c>AddServiceDiscovery().AddCloudMapServiceEndpointProvider()</c> and an HttpClient with
/// Microsoft.Extensions.ServiceDiscovery's <c>AddServiceDiscovery()</c> handler, on a manual clock, calling real Kestrel
/// tasks on 127.0.0.2, .3, ... that answer <c>"&lt;task index&gt; &lt;Host header&gt;"</c> and count their requests.
/// </summary>
internal sealed class ClientHarness : IAsyncDisposable
{
    private readonly int[] _hits;

    private ClientHarness(int tasks)
    {
        _hits = new int[tasks];
    }

    public FakeTimeProvider Clock { get; } = new();

    public LoopbackTasks Tasks { get; private set; } = null!;

    public ServiceProvider Services { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public DiscoveryRegistry Registry => Services.GetRequiredService<DiscoveryRegistry>();

    public int Hits(int task) => Volatile.Read(ref _hits[task]);

    public int[] AllHits => [.. Enumerable.Range(0, _hits.Length).Select(Hits)];

    public static async Task<ClientHarness> StartAsync(int tasks, string nameServer, Action<CloudMapDiscoveryOptions>? configure = null, bool realClock = false)
    {
        var h = new ClientHarness(tasks);
        h.Tasks = await LoopbackTasks.StartAsync(tasks, HttpProtocols.Http1, null, (_, _) => { }, (app, index) => app.Run(context =>
        {
            Interlocked.Increment(ref h._hits[index]);
            return context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"{index} {context.Request.Host}"));
        }));

        var services = new ServiceCollection();
        services.AddSingleton(realClock ? TimeProvider.System : h.Clock);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddServiceDiscovery().AddCloudMapServiceEndpointProvider(o =>
        {
            o.NameServers.Add(nameServer);
            o.HostSuffixes.Add("internal");
            configure?.Invoke(o);
        });
        services.AddHttpClient("name").AddServiceDiscovery();
        h.Services = services.BuildServiceProvider();
        h.Client = h.Services.GetRequiredService<IHttpClientFactory>().CreateClient("name");
        return h;
    }

    public Uri Url(string host) => new(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{Tasks.Port}/"));

    /// <summary>Sends <paramref name="count"/> GETs one after another; returns how many failed (any exception or non-2xx).</summary>
    public async Task<int> SendAsync(string host, int count)
    {
        var failures = 0;
        for (var i = 0; i < count; i++)
        {
            try
            {
                using var response = await Client.GetAsync(Url(host));
                failures += response.IsSuccessStatusCode ? 0 : 1;
            }
            catch (Exception ex) when (ex is HttpRequestException or ServiceDiscoveryException or TaskCanceledException)
            {
                failures++;
            }
        }

        return failures;
    }

    public Task AdvanceAsync(TimeSpan by, TimeSpan step, Func<Task>? between = null)
        => ProviderHarness.AdvanceAsync(Clock, Registry, by, step, between);

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        if (Tasks is not null)
        {
            await Tasks.DisposeAsync();
        }
    }
}
