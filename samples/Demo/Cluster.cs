using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Samples.Name;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>The "AWS side" of the story: Cloud Map (a DNS server for zone <c>internal</c>) and the name tasks.</summary>
internal sealed class Cluster : IAsyncDisposable
{
    public const string ServiceName = "name";

    /// <summary>The TTL the name records carry, as in the AWS pattern; the library floors it to MinTtl.</summary>
    public static readonly TimeSpan RecordTtl = TimeSpan.Zero;

    private readonly Dictionary<string, WebApplication> _tasks = [];
    private readonly HashSet<string> _registered = [];
    private readonly Dictionary<string, BlackHoleListener> _holes = [];
    private readonly ConcurrentDictionary<string, TaskFault> _faults = [];
    private readonly object _gate = new();

    private Cluster(DnsTestServer dns, int namePort)
    {
        Dns = dns;
        NamePort = namePort;
    }

    public DnsTestServer Dns { get; }

    public int NamePort { get; }

    public static async Task<Cluster> StartAsync(int dnsPort, int namePort, IEnumerable<string> addresses)
    {
        DnsTestServer dns;
        try
        {
            dns = await DnsTestServer.StartAsync("internal", IPAddress.Loopback, dnsPort);
        }
        catch (SocketException) when (dnsPort != 0)
        {
            dns = await DnsTestServer.StartAsync("internal", IPAddress.Loopback, 0);
        }

        return new Cluster(dns, Ports.Choose(namePort, addresses));
    }

    public bool IsRunning(string ip)
    {
        lock (_gate)
        {
            return _tasks.ContainsKey(ip);
        }
    }

    public bool IsRegistered(string ip)
    {
        lock (_gate)
        {
            return _registered.Contains(ip);
        }
    }

    /// <summary>Starts a name task on <paramref name="ip"/> (not yet registered).</summary>
    public async Task StartTaskAsync(string ip)
    {
        var app = NameApp.Build(["--urls", $"http://{ip}:{NamePort}"], b =>
        {
            b.Logging.ClearProviders();
            b.Services.AddSingleton<IStartupFilter>(new FaultFilter(() => _faults.GetValueOrDefault(ip)));
        });
        await app.StartAsync();
        lock (_gate)
        {
            _tasks[ip] = app;
        }
    }

    /// <summary>Stops a name task the way a crash does: connections are cut, nothing is deregistered.</summary>
    public async Task KillTaskAsync(string ip)
    {
        WebApplication? app;
        lock (_gate)
        {
            _tasks.Remove(ip, out app);
        }

        if (app is not null)
        {
            using var now = new CancellationTokenSource();
            await now.CancelAsync();
            await app.StopAsync(now.Token);
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// The task's address goes dark the way a stopped Fargate task's does: the task is gone and connects to its
    /// address time out (a listener with a full accept queue drops further SYNs), while Cloud Map still lists it.
    /// </summary>
    public async Task BlackHoleTaskAsync(string ip)
    {
        await KillTaskAsync(ip);
        var hole = await BlackHoleListener.OpenAsync(new IPEndPoint(IPAddress.Parse(ip), NamePort));
        lock (_gate)
        {
            _holes[ip] = hole;
        }
    }

    /// <summary>A task answers on the darkened address again.</summary>
    public async Task RestoreTaskAsync(string ip)
    {
        BlackHoleListener? hole;
        lock (_gate)
        {
            _holes.Remove(ip, out hole);
        }

        hole?.Dispose();
        await StartTaskAsync(ip);
    }

    /// <summary>The task keeps accepting connections but answers every request with <paramref name="fault"/> (null: healthy again).</summary>
    public void SetFault(string ip, TaskFault? fault)
    {
        if (fault is null)
        {
            _faults.TryRemove(ip, out _);
        }
        else
        {
            _faults[ip] = fault;
        }
    }

    public bool IsDark(string ip)
    {
        lock (_gate)
        {
            return _holes.ContainsKey(ip);
        }
    }

    /// <summary>Cloud Map registers the task: an A record for name.internal.</summary>
    public void Register(string ip)
    {
        Dns.AddAddress(ServiceName, IPAddress.Parse(ip), RecordTtl);
        lock (_gate)
        {
            _registered.Add(ip);
        }
    }

    /// <summary>Cloud Map deregisters the task.</summary>
    public void Deregister(string ip)
    {
        Dns.RemoveAddress(ServiceName, IPAddress.Parse(ip));
        lock (_gate)
        {
            _registered.Remove(ip);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<string> ips;
        lock (_gate)
        {
            ips = [.. _tasks.Keys];
        }

        foreach (var ip in ips)
        {
            await KillTaskAsync(ip);
        }

        lock (_gate)
        {
            foreach (var hole in _holes.Values)
            {
                hole.Dispose();
            }

            _holes.Clear();
        }

        await Dns.DisposeAsync();
    }
}

/// <summary>How a running task misbehaves: a status it answers instead of its name, and a delay before any answer.</summary>
internal sealed record TaskFault(int? Status, TimeSpan Delay);

/// <summary>Puts a task's current fault in front of its endpoints.</summary>
internal sealed class FaultFilter(Func<TaskFault?> fault) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            if (fault() is { } f)
            {
                if (f.Delay > TimeSpan.Zero)
                {
                    await Task.Delay(f.Delay, context.RequestAborted);
                }

                if (f.Status is { } status)
                {
                    context.Response.StatusCode = status;
                    await context.Response.WriteAsync("injected fault", context.RequestAborted);
                    return;
                }
            }

            await following(context);
        });
        next(app);
    };
}

/// <summary>Picks ports that are free on every address that needs them.</summary>
internal static class Ports
{
    /// <summary>Returns <paramref name="preferred"/> when it is free on every address, else a port free on all of them.</summary>
    public static int Choose(int preferred, IEnumerable<string> addresses)
    {
        var ips = addresses.Select(IPAddress.Parse).ToArray();
        if (preferred != 0 && ips.All(ip => IsFree(ip, preferred)))
        {
            return preferred;
        }

        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var probe = new TcpListener(ips[0], 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (ips.All(ip => IsFree(ip, port)))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No port is free on all of {string.Join(", ", ips.Select(i => i.ToString()))}.");
    }

    private static bool IsFree(IPAddress ip, int port)
    {
        try
        {
            using var probe = new TcpListener(ip, port);
            probe.Start();
            probe.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
