using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>The DNS side of the whole-request scenarios: a Cloud Map-like zone <c>internal</c> on loopback.</summary>
internal static class Zone
{
    public const string ServiceName = "name.internal";

    /// <summary>Starts the Testing DNS server with <c>name.internal</c> A records for the three task addresses, TTL 0 like the AWS sample.</summary>
    public static async Task<DnsTestServer> StartAsync(TimeSpan? ttl = null)
    {
        var dns = await DnsTestServer.StartAsync("internal").ConfigureAwait(false);
        dns.SetAddresses("name", ttl ?? TimeSpan.Zero, NameServiceFarm.TaskAddresses);
        return dns;
    }

    /// <summary>A resolver that asks only <paramref name="dns"/>, without the machine's resolv.conf search list.</summary>
    public static DnsResolver Resolver(DnsTestServer dns)
    {
        var options = new DnsResolverOptions { Ndots = 1, ResolvConfPath = "/nonexistent/resolv.conf" };
        options.NameServers.Add(dns.EndPoint.ToString());
        return new DnsResolver(options);
    }
}

/// <summary>One way of calling the <c>name</c> service, as a user would write it.</summary>
internal interface INameClient : IDisposable
{
    string Label { get; }

    Task<string> GetNameAsync(CancellationToken cancellationToken = default);
}

/// <summary>Ours: IHttpClientFactory client with <c>AddCloudMapDiscovery()</c>, calling <c>http://name.internal:port/</c>.</summary>
internal sealed class CloudMapClient : INameClient
{
    private readonly ServiceProvider _services;
    private readonly HttpClient _client;
    private readonly Uri _uri;

    public CloudMapClient(DnsTestServer dns, int port, Action<CloudMapDiscoveryOptions>? configure = null, Func<HttpMessageHandler>? primary = null)
    {
        var services = new ServiceCollection();
        var builder = services.AddHttpClient("name");
        if (primary is not null)
        {
            builder.ConfigurePrimaryHttpMessageHandler(primary);
        }

        builder.AddCloudMapDiscovery(o =>
        {
            o.NameServers.Add(dns.EndPoint.ToString());
            configure?.Invoke(o);
        });
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<IHttpClientFactory>().CreateClient("name");
        _uri = new Uri($"http://{Zone.ServiceName}:{port}/");
    }

    public string Label => "CloudMapDiscovery handler (name.internal)";

    public HttpClient Http => _client;

    public Task<string> GetNameAsync(CancellationToken cancellationToken = default) => _client.GetStringAsync(_uri, cancellationToken);

    public void Dispose()
    {
        _client.Dispose();
        _services.Dispose();
    }
}

/// <summary>
/// (a) A plain HttpClient on the host name. This machine cannot add <c>name.internal</c> to /etc/hosts or point
/// glibc at the test DNS server's port, so a ConnectCallback does what SocketsHttpHandler does with getaddrinfo:
/// resolve once per new connection and connect to the first address that accepts, in answer order. Like the real
/// thing it then reuses pooled connections, so all traffic pins to one address (dotnet/runtime#18348).
/// </summary>
internal sealed class PlainHostNameClient : INameClient
{
    private readonly DnsResolver _resolver;
    private readonly HttpClient _client;
    private readonly Uri _uri;

    public PlainHostNameClient(DnsTestServer dns, int port)
    {
        _resolver = Zone.Resolver(dns);
        var handler = new SocketsHttpHandler { ConnectCallback = ConnectAsync };
        _client = new HttpClient(handler);
        _uri = new Uri($"http://{Zone.ServiceName}:{port}/");
    }

    public string Label => "(a) plain HttpClient on the host name";

    public Task<string> GetNameAsync(CancellationToken cancellationToken = default) => _client.GetStringAsync(_uri, cancellationToken);

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var answer = await _resolver.QueryAsync(context.DnsEndPoint.Host, DnsRecordType.A, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var record in answer.Addresses)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(record.Address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>
/// (b) The AWS sample's client, done in .NET: a DNS query on every request (its 5 s cache never works), a uniformly
/// random address, a <see cref="UriBuilder"/> rewrite, and the bare IP as Host. Pooled connections, which is kinder
/// than the sample.
/// </summary>
internal sealed class NaiveSampleClient : INameClient
{
    private readonly DnsResolver _resolver;
    private readonly HttpClient _client = new(new SocketsHttpHandler());
    private readonly Uri _uri;

    public NaiveSampleClient(DnsTestServer dns, int port)
    {
        _resolver = Zone.Resolver(dns);
        _uri = new Uri($"http://{Zone.ServiceName}:{port}/");
    }

    public string Label => "(b) naive AWS-sample client";

    public async Task<string> GetNameAsync(CancellationToken cancellationToken = default)
    {
        var answer = await _resolver.QueryAsync(_uri.Host, DnsRecordType.A, cancellationToken).ConfigureAwait(false);
        var address = answer.Addresses[Random.Shared.Next(answer.Addresses.Count)].Address;
        var target = new UriBuilder(_uri) { Host = address.ToString() }.Uri;
        return await _client.GetStringAsync(target, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>(c) Hard-wired to one task address: no discovery at all. The floor.</summary>
internal sealed class HardWiredClient : INameClient
{
    private readonly HttpClient _client = new(new SocketsHttpHandler());
    private readonly Uri _uri;

    public HardWiredClient(int port)
    {
        _uri = new Uri($"http://{NameServiceFarm.TaskAddresses[0]}:{port}/");
    }

    public string Label => "(c) hard-wired to 127.0.0.2 (floor)";

    public Task<string> GetNameAsync(CancellationToken cancellationToken = default) => _client.GetStringAsync(_uri, cancellationToken);

    public void Dispose() => _client.Dispose();
}

/// <summary>(c) through IHttpClientFactory: the same factory pipeline as ours (logging handlers, factory-made
/// SocketsHttpHandler) without AddCloudMapDiscovery, hard-wired to 127.0.0.2. Separates the factory's cost from ours.</summary>
internal sealed class FactoryHardWiredClient : INameClient
{
    private readonly ServiceProvider _services;
    private readonly HttpClient _client;
    private readonly Uri _uri;

    public FactoryHardWiredClient(int port)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("name");
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<IHttpClientFactory>().CreateClient("name");
        _uri = new Uri($"http://{NameServiceFarm.TaskAddresses[0]}:{port}/");
    }

    public string Label => "(c') hard-wired, through IHttpClientFactory";

    public Task<string> GetNameAsync(CancellationToken cancellationToken = default) => _client.GetStringAsync(_uri, cancellationToken);

    public void Dispose()
    {
        _client.Dispose();
        _services.Dispose();
    }
}
