using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Benchmarks.Infrastructure;

/// <summary>
/// Three Kestrel instances playing the AWS sample's <c>name</c> service, one per "task" address
/// (127.0.0.2, .3, .4) on one shared port, like three Fargate tasks behind one Cloud Map A record. Each
/// answers any GET with <c>&lt;first name&gt; (from &lt;its address&gt;)</c> and counts what it served.
/// </summary>
internal sealed class NameServiceFarm : IAsyncDisposable
{
    public static readonly IPAddress[] TaskAddresses = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];

    private static readonly string[] FirstNames =
    [
        "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Isabella", "Ava", "Mia", "Evelyn", "Luna",
        "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas", "Benjamin", "Theodore",
    ];

    private readonly List<WebApplication> _apps = [];
    private readonly long[] _served;

    private NameServiceFarm(int port)
    {
        Port = port;
        _served = new long[TaskAddresses.Length];
    }

    public int Port { get; }

    public static async Task<NameServiceFarm> StartAsync()
    {
        // One free port for all three: reserve it on the first address, then bind the others to it.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort(TaskAddresses[0]);
            var farm = new NameServiceFarm(port);
            try
            {
                for (var i = 0; i < TaskAddresses.Length; i++)
                {
                    await farm.StartOneAsync(i).ConfigureAwait(false);
                }

                return farm;
            }
            catch (IOException) when (attempt < 5)
            {
                await farm.DisposeAsync().ConfigureAwait(false); // the port was taken meanwhile; try another
            }
        }
    }

    /// <summary>Requests served per task address since the start or the last <see cref="ResetCounts"/>.</summary>
    public long[] Served() => Enumerable.Range(0, _served.Length).Select(i => Interlocked.Read(ref _served[i])).ToArray();

    public void ResetCounts()
    {
        for (var i = 0; i < _served.Length; i++)
        {
            Interlocked.Exchange(ref _served[i], 0);
        }
    }

    /// <summary>For example <c>127.0.0.2: 1000 (33.3 %), 127.0.0.3: 1000 (33.3 %), 127.0.0.4: 1000 (33.3 %)</c>.</summary>
    public static string Describe(long[] served)
    {
        var total = Math.Max(1, served.Sum());
        return string.Join(", ", served.Select((c, i) => $"{TaskAddresses[i]}: {c} ({100.0 * c / total:0.0} %)"));
    }

    private async Task StartOneAsync(int index)
    {
        var address = TaskAddresses[index];
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(address, Port);
        });
        var app = builder.Build();
        var from = Encoding.UTF8.GetBytes($" (from {address})");
        app.Run(context =>
        {
            Interlocked.Increment(ref _served[index]);
            var name = FirstNames[Random.Shared.Next(FirstNames.Length)];
            var body = new byte[name.Length + from.Length];
            Encoding.ASCII.GetBytes(name, body);
            from.CopyTo(body, name.Length);
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        _apps.Add(app);
        await app.StartAsync().ConfigureAwait(false);
    }

    private static int FreePort(IPAddress address)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
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
