using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// A fleet of simulated ECS tasks: one real Kestrel server per loopback address (127.0.0.2, 127.0.0.3, ...), all on
/// the same port, as Cloud Map tasks share their container port. Each answers:
/// <list type="bullet">
/// <item><c>GET /</c>: its own address.</item>
/// <item><c>GET /host</c>: the Host header it received.</item>
/// <item><c>GET /sni</c>: the TLS SNI name it received (HTTPS fleets).</item>
/// <item><c>GET /slow</c>: never answers; signals <see cref="SlowArrived"/> and waits for the client to go away.</item>
/// <item><c>POST /echo</c>: reads the body, counts it in <see cref="BodiesReceived"/>, echoes it.</item>
/// <item><c>POST /hang</c>: reads and counts the body, then never answers.</item>
/// <item><c>/flaky</c> (any method): reads the body, counts it, then aborts the connection while
/// <see cref="AbortNext"/> is positive (fleet-wide, one abort per request), else echoes.</item>
/// </list>
/// Tasks can be killed (connections refused) or black-holed (connects time out, like a stopped Fargate task).
/// </summary>
internal sealed class TaskFleet : IAsyncDisposable
{
    private readonly WebApplication?[] _apps;
    private readonly int[] _hits;
    private readonly X509Certificate2? _certificate;
    private readonly List<BlackHoleListener> _blackHoles = [];
    private int _bodies;
    private int _slowHits;
    private int _abortNext;
    private readonly List<(int Count, TaskCompletionSource Done)> _bodyWaiters = [];

    private TaskFleet(int count, int port, X509Certificate2? certificate)
    {
        Port = port;
        _certificate = certificate;
        _apps = new WebApplication?[count];
        _hits = new int[count];
        Addresses = Enumerable.Range(0, count).Select(i => new IPAddress(new byte[] { 127, 0, 0, (byte)(i + 2) })).ToArray();
    }

    public int Port { get; }

    public IPAddress[] Addresses { get; }

    public int Count => _apps.Length;

    /// <summary>Gets the SNI names Kestrel's certificate selector saw, in order (HTTPS fleets).</summary>
    public ConcurrentQueue<string?> SniNames { get; } = new();

    /// <summary>Gets the request bodies read by <c>/echo</c> and <c>/flaky</c>, fleet-wide.</summary>
    public int BodiesReceived => Volatile.Read(ref _bodies);

    /// <summary>Gets how many <c>/slow</c> requests arrived, fleet-wide.</summary>
    public int SlowHits => Volatile.Read(ref _slowHits);

    /// <summary>Gets a task that completes when the first <c>/slow</c> request has arrived.</summary>
    public TaskCompletionSource SlowArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets or sets how many of the next <c>/flaky</c> requests (fleet-wide) are aborted after their body was read.</summary>
    public int AbortNext
    {
        get => Volatile.Read(ref _abortNext);
        set => Volatile.Write(ref _abortNext, value);
    }

    public int TotalHits => _hits.Sum();

    public static async Task<TaskFleet> StartAsync(int count, X509Certificate2? certificate = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var fleet = new TaskFleet(count, FreePort(), certificate);
            try
            {
                for (var i = 0; i < count; i++)
                {
                    await fleet.StartTaskAsync(i);
                }

                return fleet;
            }
            catch (IOException) when (attempt < 5)
            {
                // Another test took the port on one of the addresses in the meantime: take a new one.
                await fleet.DisposeAsync();
            }
        }
    }

    /// <summary>The port is free on 127.0.0.1 right now; the other loopback addresses are almost always free too.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Completes once <see cref="BodiesReceived"/> reaches <paramref name="count"/>.</summary>
    public Task WhenBodiesReceived(int count)
    {
        lock (_bodyWaiters)
        {
            if (BodiesReceived >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _bodyWaiters.Add((count, done));
            return done.Task;
        }
    }

    public int Hits(int index) => Volatile.Read(ref _hits[index]);

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

    /// <summary>Starts task <paramref name="index"/> again after <see cref="KillAsync"/>.</summary>
    public Task ReviveAsync(int index) => StartTaskAsync(index);

    /// <summary>
    /// Replaces task <paramref name="index"/> with a listening socket that never accepts, with a backlog of one and
    /// its queue full: new connects get no answer to their SYN and time out, as connects to the address of a
    /// stopped Fargate task do.
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

        foreach (var s in _blackHoles)
        {
            s.Dispose();
        }

        _blackHoles.Clear();
    }

    private async Task StartTaskAsync(int index)
    {
        var address = Addresses[index];
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, Port, listen =>
        {
            if (_certificate is { } cert)
            {
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, name) =>
                    {
                        SniNames.Enqueue(name);
                        return cert;
                    },
                });
            }
        }));
        var app = builder.Build();
        var self = address.ToString();
        app.Run(context => HandleAsync(context, index, self));
        await app.StartAsync();
        _apps[index] = app;
    }

    private async Task HandleAsync(HttpContext context, int index, string self)
    {
        Interlocked.Increment(ref _hits[index]);
        var aborted = context.RequestAborted;
        switch (context.Request.Path.Value)
        {
            case "/host":
                await context.Response.WriteAsync(context.Request.Headers.Host.ToString(), aborted);
                return;
            case "/sni":
                await context.Response.WriteAsync(context.Features.Get<ITlsHandshakeFeature>()?.HostName ?? "(none)", aborted);
                return;
            case "/slow":
                Interlocked.Increment(ref _slowHits);
                SlowArrived.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, aborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
            case "/echo":
                var body = await ReadBodyAsync(context);
                await context.Response.WriteAsync(body, aborted);
                return;
            case "/hang":
                await ReadBodyAsync(context);
                try
                {
                    await Task.Delay(Timeout.Infinite, aborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
            case "/flaky":
                var flaky = await ReadBodyAsync(context);
                if (Interlocked.Decrement(ref _abortNext) >= 0)
                {
                    context.Abort();
                    return;
                }

                Interlocked.Increment(ref _abortNext); // undo: nothing more to abort
                await context.Response.WriteAsync(self + ":" + flaky, aborted);
                return;
            default:
                await context.Response.WriteAsync(self, aborted);
                return;
        }
    }

    private async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        lock (_bodyWaiters)
        {
            var bodies = Interlocked.Increment(ref _bodies);
            foreach (var waiter in _bodyWaiters.Where(w => w.Count <= bodies).ToArray())
            {
                _bodyWaiters.Remove(waiter);
                waiter.Done.TrySetResult();
            }
        }

        return body;
    }
}
