using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Integration.Tests.Infrastructure;

/// <summary>
/// Simulated ECS tasks: one real Kestrel server per loopback address (127.0.0.2, 127.0.0.3, ...), all on one port, as
/// Cloud Map tasks share their container port. What each task serves is given by the caller; this class only starts,
/// stops and black-holes them. Compiled into every test project (the unit tests' TaskFleet serves its fixed routes on it).
/// </summary>
internal sealed class LoopbackTasks : IAsyncDisposable
{
    private readonly WebApplication?[] _apps;
    private readonly Action<WebApplicationBuilder, int> _configure;
    private readonly Action<WebApplication, int> _map;
    private readonly HttpProtocols _protocols;
    private readonly Func<int, X509Certificate2>? _certificates;
    private readonly List<BlackHoleListener> _blackHoles = [];

    private LoopbackTasks(int count, int port, HttpProtocols protocols, Func<int, X509Certificate2>? certificates, Action<WebApplicationBuilder, int> configure, Action<WebApplication, int> map)
    {
        Port = port;
        _protocols = protocols;
        _certificates = certificates;
        _configure = configure;
        _map = map;
        _apps = new WebApplication?[count];
        Addresses = Enumerable.Range(0, count).Select(Address).ToArray();
    }

    public int Port { get; }

    public IPAddress[] Addresses { get; }

    /// <summary>Gets every TLS handshake: which task, and the SNI name the client sent.</summary>
    public ConcurrentQueue<(int Task, string? Sni)> Handshakes { get; } = new();

    public static IPAddress Address(int index) => new([127, 0, 0, (byte)(index + 2)]);

    /// <summary>Starts <paramref name="count"/> tasks.</summary>
    /// <param name="count">How many tasks.</param>
    /// <param name="protocols">Kestrel's protocols (HTTP/2 alone for h2c gRPC).</param>
    /// <param name="certificates">Serve TLS, task i with certificate i.</param>
    /// <param name="configure">Services of task i.</param>
    /// <param name="map">Endpoints of task i.</param>
    public static async Task<LoopbackTasks> StartAsync(
        int count, HttpProtocols protocols, Func<int, X509Certificate2>? certificates, Action<WebApplicationBuilder, int> configure, Action<WebApplication, int> map)
    {
        for (var attempt = 0; ; attempt++)
        {
            var tasks = new LoopbackTasks(count, FreePort(), protocols, certificates, configure, map);
            try
            {
                for (var i = 0; i < count; i++)
                {
                    await tasks.StartTaskAsync(i);
                }

                return tasks;
            }
            catch (IOException) when (attempt < 5)
            {
                // Another test took the port on one of the addresses in the meantime: take a new one.
                await tasks.DisposeAsync();
            }
        }
    }

    public int IndexOf(string address) => Array.FindIndex(Addresses, a => a.ToString() == address);

    /// <summary>Stops task <paramref name="index"/>: open connections close and new connects are refused.</summary>
    public async Task KillAsync(int index)
    {
        var app = Interlocked.Exchange(ref _apps[index], null);
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Replaces task <paramref name="index"/> with a listening socket that never accepts, its one-slot accept queue
    /// full: Linux then drops further SYNs, so connects time out, as connects to a stopped Fargate task's address do.
    /// </summary>
    public async Task BlackHoleAsync(int index)
    {
        await KillAsync(index);
        _blackHoles.Add(await BlackHoleListener.OpenAsync(new IPEndPoint(Addresses[index], Port)));
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _apps.Length; i++)
        {
            await KillAsync(i);
        }

        foreach (var socket in _blackHoles)
        {
            socket.Dispose();
        }

        _blackHoles.Clear();
    }

    /// <summary>A TCP port free on 127.0.0.1 right now, which the other 127.0.0.x addresses can then bind too.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private async Task StartTaskAsync(int index)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k => k.Listen(Addresses[index], Port, listen =>
        {
            listen.Protocols = _protocols;
            if (_certificates is { } certificates)
            {
                var certificate = certificates(index);
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    // The selector sees the SNI name, and makes Kestrel expose it as ITlsHandshakeFeature.HostName.
                    ServerCertificateSelector = (_, name) =>
                    {
                        Handshakes.Enqueue((index, name));
                        return certificate;
                    },
                });
            }
        }));
        _configure(builder, index);
        var app = builder.Build();
        _map(app, index);
        await app.StartAsync();
        _apps[index] = app;
    }
}
