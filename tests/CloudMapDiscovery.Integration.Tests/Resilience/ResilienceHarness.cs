using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// The namespace <c>internal</c> on <see cref="DnsTestServer"/>, <see cref="HttpTasks"/> registered as
/// <c>name.internal</c>, and the named client <c>name</c> composed by the test: the test decides where discovery sits
/// among the other handlers. The primary handler records every connect attempt by task address.
/// </summary>
internal sealed class ResilienceHarness : IAsyncDisposable
{
    public const string Client = "name";
    public const string Host = "name.internal";

    private readonly ConnectCounter _connects;

    private ResilienceHarness(DnsTestServer dns, HttpTasks tasks, ServiceProvider services, ConnectCounter connects)
    {
        Dns = dns;
        Tasks = tasks;
        Services = services;
        _connects = connects;
    }

    public DnsTestServer Dns { get; }

    public HttpTasks Tasks { get; }

    public ServiceProvider Services { get; }

    /// <summary>Starts DNS, <paramref name="tasks"/> HTTP tasks and the client <c>name</c>.</summary>
    /// <param name="tasks">How many tasks.</param>
    /// <param name="compose">
    /// Adds the client's handlers; its second argument adds discovery to a builder, so the order is the test's.
    /// </param>
    /// <param name="configure">Changes to discovery's options (the name server is already set).</param>
    /// <param name="services">More registrations, given discovery's test options (for registrations covering every client).</param>
    public static async Task<ResilienceHarness> StartAsync(
        int tasks,
        Action<IHttpClientBuilder, Action<IHttpClientBuilder>> compose,
        Action<CloudMapDiscoveryOptions>? configure = null,
        Action<IServiceCollection, Action<CloudMapDiscoveryOptions>>? services = null)
    {
        var dns = await DnsTestServer.StartAsync("internal");
        var fleet = await HttpTasks.StartAsync(tasks);
        dns.SetAddresses("name", TimeSpan.FromSeconds(60), fleet.Tasks.Addresses);

        void Options(CloudMapDiscoveryOptions o)
        {
            o.NameServers.Add(dns.EndPoint.ToString());
            o.DnsTimeout = TimeSpan.FromSeconds(1);
            o.DnsAttempts = 1;
            configure?.Invoke(o);
        }

        var connects = new ConnectCounter();
        var collection = new ServiceCollection();
        services?.Invoke(collection, Options);
        var client = collection.AddHttpClient(Client, c => c.BaseAddress = new Uri($"http://{Host}:{fleet.Port}/"))
            .ConfigurePrimaryHttpMessageHandler(() => connects.CreateHandler());
        compose(client, b => b.AddCloudMapDiscovery(Options));
        return new ResilienceHarness(dns, fleet, collection.BuildServiceProvider(), connects);
    }

    public HttpClient CreateClient() => Services.GetRequiredService<IHttpClientFactory>().CreateClient(Client);

    /// <summary>How many connects were attempted to task <paramref name="task"/>, refused and timed out ones included.</summary>
    public int Connects(int task) => _connects.Count(LoopbackTasks.Address(task));

    public EndpointSnapshot Endpoint(int task)
        => Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().Single(s => s.Host == Host)
            .Endpoints.Single(e => e.Address == LoopbackTasks.Address(task).ToString());

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Tasks.DisposeAsync();
        await Dns.DisposeAsync();
    }
}
