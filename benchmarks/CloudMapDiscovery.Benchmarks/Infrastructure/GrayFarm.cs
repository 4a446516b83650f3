using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>
/// Loopback Kestrel tasks (127.0.0.2, .3, ...) on one port whose answers can turn gray: each answers any GET with its
/// address, after the delay and with the status set for it (200 and none by default).
/// </summary>
internal sealed class GrayFarm : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];
    private readonly int[] _status;
    private readonly int[] _delayMs;

    private GrayFarm(int count, int port)
    {
        Port = port;
        Addresses = [.. Enumerable.Range(0, count).Select(i => new IPAddress([127, 0, 0, (byte)(i + 2)]))];
        _status = new int[count];
        _delayMs = new int[count];
    }

    public int Port { get; }

    public IPAddress[] Addresses { get; }

    public static async Task<GrayFarm> StartAsync(int count)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            probe.Close();
            var farm = new GrayFarm(count, port);
            try
            {
                for (var i = 0; i < count; i++)
                {
                    await farm.StartOneAsync(i).ConfigureAwait(false);
                }

                return farm;
            }
            catch (IOException) when (attempt < 5)
            {
                await farm.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Task <paramref name="index"/> answers with <paramref name="status"/> (0: 200) after <paramref name="delay"/>.</summary>
    public void Set(int index, int status, TimeSpan delay)
    {
        Volatile.Write(ref _status[index], status);
        Volatile.Write(ref _delayMs[index], (int)delay.TotalMilliseconds);
    }

    public void Heal()
    {
        for (var i = 0; i < _status.Length; i++)
        {
            Set(i, 0, TimeSpan.Zero);
        }
    }

    private async Task StartOneAsync(int index)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(Addresses[index], Port);
        });
        var app = builder.Build();
        var self = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        app.Run(async context =>
        {
            var delay = Volatile.Read(ref _delayMs[index]);
            if (delay > 0)
            {
                await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
            }

            var status = Volatile.Read(ref _status[index]);
            context.Response.StatusCode = status == 0 ? 200 : status;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(self, context.RequestAborted).ConfigureAwait(false);
        });
        _apps.Add(app);
        await app.StartAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _apps.Clear();
    }
}
