using System.Net;
using System.Security.Cryptography.X509Certificates;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Shared;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// A Cloud Map namespace <c>internal</c> served by <see cref="DnsTestServer"/>, a <see cref="TaskFleet"/> registered
/// under <c>name.internal</c>, and a service provider with the named client <c>name</c> using discovery.
/// </summary>
internal sealed class DiscoveryHarness : IAsyncDisposable
{
    public const string Client = "name";
    public const string Host = "name.internal";
    public static readonly TimeSpan RecordTtl = TimeSpan.FromSeconds(60);

    private DiscoveryHarness(DnsTestServer dns, TaskFleet fleet, ServiceProvider services)
    {
        Dns = dns;
        Fleet = fleet;
        Services = services;
    }

    public DnsTestServer Dns { get; }

    public TaskFleet Fleet { get; }

    public ServiceProvider Services { get; }

    public string NameServer => Dns.EndPoint.ToString();

    public BalancerRegistry Registry => Services.GetRequiredService<BalancerRegistry>();

    public CloudMapContext Context => Registry.Context;

    /// <summary>Starts DNS, <paramref name="tasks"/> Kestrel tasks and the client <c>name</c>.</summary>
    /// <param name="tasks">How many tasks.</param>
    /// <param name="configure">Changes to the client's options (the name server is already set).</param>
    /// <param name="services">More registrations: other clients, a clock, configuration ...</param>
    /// <param name="client">Changes to the client's builder, before discovery is added.</param>
    /// <param name="certificate">Serve HTTPS with this certificate.</param>
    public static async Task<DiscoveryHarness> StartAsync(
        int tasks,
        Action<CloudMapDiscoveryOptions>? configure = null,
        Action<IServiceCollection, DnsTestServer>? services = null,
        Action<IHttpClientBuilder>? client = null,
        X509Certificate2? certificate = null)
    {
        var dns = await DnsTestServer.StartAsync("internal");
        var fleet = await TaskFleet.StartAsync(tasks, certificate);
        dns.SetAddresses("name", RecordTtl, fleet.Addresses);

        var collection = new ServiceCollection();
        var builder = collection.AddHttpClient(Client);
        client?.Invoke(builder);
        builder.AddCloudMapDiscovery(o =>
        {
            o.NameServers.Add(dns.EndPoint.ToString());
            o.DnsTimeout = TimeSpan.FromSeconds(5); // a busy machine must not fail a lookup; tests of timeouts set their own
            o.DnsAttempts = 1;
            configure?.Invoke(o);
        });
        services?.Invoke(collection, dns);
        return new DiscoveryHarness(dns, fleet, collection.BuildServiceProvider());
    }

    public HttpClient CreateClient(string name = Client) => Services.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    public Uri Url(string path = "/", string host = Host, string scheme = "http") => new($"{scheme}://{host}:{Fleet.Port}{path}");

    public ServiceSnapshot Snapshot(string host = Host)
        => Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().Single(s => s.Host == host);

    public EndpointSnapshot Endpoint(int index) => Snapshot().Endpoints.Single(e => e.Address == Fleet.Addresses[index].ToString());

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Fleet.DisposeAsync();
        await Dns.DisposeAsync();
    }
}

/// <summary>A primary handler that records what reached it and answers 200 with the URI it got, without any network.</summary>
internal sealed class RecordingHandler : HttpMessageHandler
{
    public List<(Uri? Uri, string? Host)> Seen { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Seen)
        {
            Seen.Add((request.RequestUri, request.Headers.Host));
        }

        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(request.RequestUri?.ToString() ?? string.Empty), RequestMessage = request });
    }
}
