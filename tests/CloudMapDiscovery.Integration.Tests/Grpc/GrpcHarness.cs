using System.Security.Cryptography.X509Certificates;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Integration.Tests.Grpc;

/// <summary>
/// The namespace <c>internal</c> on <see cref="DnsTestServer"/>, <see cref="GrpcTasks"/> registered as
/// <c>name.internal</c>, and a typed gRPC client registered as users do:
/// <c>AddGrpcClient&lt;T&gt;(o => o.Address = new Uri("http://name.internal:port")).AddCloudMapDiscovery()</c>.
/// </summary>
internal sealed class GrpcHarness : IAsyncDisposable
{
    public const string Host = "name.internal";

    private GrpcHarness(DnsTestServer dns, GrpcTasks tasks, ServiceProvider services)
    {
        Dns = dns;
        Tasks = tasks;
        Services = services;
    }

    public DnsTestServer Dns { get; }

    public GrpcTasks Tasks { get; }

    public ServiceProvider Services { get; }

    /// <summary>Gets the client's primary handler, as the channel received it at the bottom of the factory's chain.</summary>
    public SocketsHttpHandler PrimaryHandler { get; private set; } = null!;

    /// <summary>The client as an application gets it (transient; the factory keeps one channel per client name).</summary>
    public TaskService.TaskServiceClient Client => Services.GetRequiredService<TaskService.TaskServiceClient>();

    public string Authority => $"{Host}:{Tasks.Port}";

    /// <summary>Starts DNS, <paramref name="tasks"/> gRPC tasks and the client.</summary>
    /// <param name="tasks">How many tasks.</param>
    /// <param name="certificates">Serve TLS, task i with certificate i, and call <c>https://name.internal</c>.</param>
    /// <param name="configure">Changes to discovery's options (the name server is already set).</param>
    /// <param name="client">Changes to the client's builder, before discovery is added.</param>
    public static async Task<GrpcHarness> StartAsync(
        int tasks,
        Func<int, X509Certificate2>? certificates = null,
        Action<CloudMapDiscoveryOptions>? configure = null,
        Action<IHttpClientBuilder>? client = null)
    {
        var dns = await DnsTestServer.StartAsync("internal");
        var fleet = await GrpcTasks.StartAsync(tasks, certificates);
        dns.SetAddresses("name", TimeSpan.FromSeconds(60), fleet.Tasks.Addresses);

        var services = new ServiceCollection();
        var scheme = certificates is null ? "http" : "https";
        var builder = services.AddGrpcClient<TaskService.TaskServiceClient>(o => o.Address = new Uri($"{scheme}://{Host}:{fleet.Port}"));
        client?.Invoke(builder);
        SocketsHttpHandler? primary = null;
        builder.ConfigurePrimaryHttpMessageHandler((handler, _) => primary = handler as SocketsHttpHandler);
        builder.AddCloudMapDiscovery(o =>
        {
            o.NameServers.Add(dns.EndPoint.ToString());
            o.DnsTimeout = TimeSpan.FromSeconds(1);
            o.DnsAttempts = 1;
            configure?.Invoke(o);
        });
        var harness = new GrpcHarness(dns, fleet, services.BuildServiceProvider());

        // Creating the first client creates the channel. Had grpc-dotnet's own balancer taken over the primary handler
        // (it sets ConnectCallback), every connect would go to name.internal through the system resolver, outside
        // this test's DNS server: stop here rather than send that query.
        _ = harness.Client;
        harness.PrimaryHandler = primary ?? throw new InvalidOperationException("The client's primary handler is not a SocketsHttpHandler.");
        if (primary.ConnectCallback is not null)
        {
            await harness.DisposeAsync();
            throw new InvalidOperationException("The gRPC channel installed its own ConnectCallback on the primary handler: its balancer would connect to the service name itself.");
        }

        return harness;
    }

    public ServiceSnapshot Snapshot()
        => Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().Single(s => s.Host == Host);

    public EndpointSnapshot Endpoint(int index)
        => Snapshot().Endpoints.Single(e => e.Address == Tasks.Tasks.Addresses[index].ToString());

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Tasks.DisposeAsync();
        await Dns.DisposeAsync();
    }
}
