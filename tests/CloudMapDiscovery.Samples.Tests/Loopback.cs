using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using CloudMapDiscovery.Samples.Hello;
using CloudMapDiscovery.Samples.Name;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// The end-to-end tests time DNS refreshes and ejections; on a 2-core machine they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace CloudMapDiscovery.Samples.Tests;

/// <summary>
/// A Cloud Map stand-in on loopback: a DNS server for zone <c>internal</c>, name tasks as real Kestrel hosts on
/// 127.0.N.x sharing one port, and hello on 127.0.N.1. Each test uses its own N.
/// </summary>
internal sealed class Loopback : IAsyncDisposable
{
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, WebApplication> _names = [];
    private readonly List<WebApplication> _others = [];

    private Loopback(DnsTestServer dns, int subnet)
    {
        Dns = dns;
        Subnet = subnet;
    }

    public DnsTestServer Dns { get; }

    public int Subnet { get; }

    public int NamePort { get; private set; }

    public Uri? Hello { get; private set; }

    public WebApplication? HelloApp { get; private set; }

    public static async Task<Loopback> StartAsync(int subnet) => new(await DnsTestServer.StartAsync("internal"), subnet);

    public string Ip(int host) => $"127.0.{Subnet}.{host}";

    /// <summary>Starts a name task on 127.0.N.host; the first one picks a free port, the rest share it.</summary>
    public async Task<string> StartNameAsync(int host, bool register = true)
    {
        var ip = Ip(host);
        var app = NameApp.Build(["--urls", $"http://{ip}:{NamePort}"], b => b.Logging.ClearProviders());
        await app.StartAsync();
        NamePort = new Uri(app.Urls.First()).Port;
        _names[ip] = app;
        if (register)
        {
            Dns.AddAddress("name", IPAddress.Parse(ip), TimeSpan.Zero);
        }

        return ip;
    }

    /// <summary>Stops a name task like a crash: connections cut, the record stays.</summary>
    public async Task KillNameAsync(string ip)
    {
        if (_names.Remove(ip, out var app))
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync();
            await app.StopAsync(now.Token);
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts hello; with <paramref name="clock"/>, its discovery cache runs on that manual clock.</summary>
    public async Task<HttpClient> StartHelloAsync(IDictionary<string, string?>? settings = null, TimeProvider? clock = null, Action<IServiceCollection>? services = null)
    {
        var config = new Dictionary<string, string?>
        {
            [Samples.Hello.HelloApp.NameServerKey] = $"http://name.internal:{NamePort}/",
            ["CloudMapDiscovery:NameServers:0"] = Dns.EndPoint.ToString(),
            ["CloudMapDiscovery:MinTtl"] = MinTtl.ToString("c", CultureInfo.InvariantCulture),
            ["CloudMapDiscovery:NegativeTtlCap"] = MinTtl.ToString("c", CultureInfo.InvariantCulture),
            ["CloudMapDiscovery:DnsTimeout"] = "00:00:01",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }

        var app = Samples.Hello.HelloApp.Build(["--urls", $"http://{Ip(1)}:0"], b =>
        {
            b.Logging.ClearProviders();
            b.Configuration.AddInMemoryCollection(config);
            if (clock is not null)
            {
                b.Services.AddSingleton(clock);
            }

            services?.Invoke(b.Services);
        });
        await app.StartAsync();
        HelloApp = app;
        _others.Add(app);
        Hello = new Uri(app.Urls.First() + "/");
        return new HttpClient { BaseAddress = Hello, Timeout = TimeSpan.FromSeconds(15) };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var ip in _names.Keys.ToArray())
        {
            await KillNameAsync(ip);
        }

        foreach (var app in _others)
        {
            await app.DisposeAsync();
        }

        await Dns.DisposeAsync();
    }
}

/// <summary>Waits for what hello's discovery cache reports, instead of for time to pass.</summary>
internal static class DebugEndpoints
{
    /// <summary>Polls <c>/debug/endpoints</c> until <paramref name="condition"/> holds for the single service; fails after 10 s.</summary>
    public static async Task UntilAsync(HttpClient hello, Func<JsonElement, bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using (var json = JsonDocument.Parse(await hello.GetStringAsync("debug/endpoints")))
            {
                if (json.RootElement.EnumerateArray().Any(condition))
                {
                    return;
                }
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"hello's discovery cache never showed {what}.");
            }

            await Task.Yield();
        }
    }
}
