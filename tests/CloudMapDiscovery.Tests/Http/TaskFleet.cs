using System.Net;
using System.Security.Cryptography.X509Certificates;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// A fleet of simulated ECS tasks: one real Kestrel server per loopback address (127.0.0.2, 127.0.0.3, ...), all on
/// the same port, as Cloud Map tasks share their container port. Each answers:
/// <list type="bullet">
/// <item><c>GET /</c>: its own address, with the status set by <see cref="Answer"/> (200 unless set).</item>
/// <item><c>GET /host</c>: the Host header it received.</item>
/// <item><c>GET /sni</c>: the TLS SNI name it received (HTTPS fleets).</item>
/// <item><c>GET /slow</c>: never answers; signals <see cref="SlowArrived"/> and waits for the client to go away.</item>
/// <item><c>POST /echo</c>: reads the body, counts it in <see cref="BodiesReceived"/>, echoes it.</item>
/// <item><c>POST /hang</c>: reads and counts the body, then never answers.</item>
/// <item><c>GET /health</c>: 200, or the status set by <see cref="AnswerHealth"/>.</item>
/// <item><c>/flaky</c> (any method): reads the body, counts it, then aborts the connection while
/// <see cref="AbortNext"/> is positive (fleet-wide, one abort per request), else echoes.</item>
/// </list>
/// Tasks can be killed (connections refused) or black-holed (connects time out, like a stopped Fargate task); the
/// servers themselves are <see cref="LoopbackTasks"/>, shared with the other test projects.
/// </summary>
internal sealed class TaskFleet : IAsyncDisposable
{
    private readonly int[] _hits;
    private readonly int[] _statuses;
    private readonly int[] _healthStatuses;
    private readonly int[] _healthHits;
    private readonly List<(int Count, TaskCompletionSource Done)> _bodyWaiters = [];
    private LoopbackTasks _tasks = null!; // set by StartAsync before anyone sees the fleet
    private int _bodies;
    private int _slowHits;
    private int _abortNext;

    private TaskFleet(int count)
    {
        _hits = new int[count];
        _statuses = new int[count];
        _healthStatuses = new int[count];
        _healthHits = new int[count];
    }

    public int Port => _tasks.Port;

    public IPAddress[] Addresses => _tasks.Addresses;

    public int Count => _hits.Length;

    /// <summary>Gets the SNI names Kestrel's certificate selector saw, in order (HTTPS fleets).</summary>
    public IEnumerable<string?> SniNames => _tasks.Handshakes.Select(h => h.Sni);

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
        var fleet = new TaskFleet(count);
        fleet._tasks = await LoopbackTasks.StartAsync(
            count,
            HttpProtocols.Http1AndHttp2,
            certificate is null ? null : _ => certificate,
            (_, _) => { },
            (app, index) =>
            {
                var self = LoopbackTasks.Address(index).ToString();
                app.Run(context => fleet.HandleAsync(context, index, self));
            });
        return fleet;
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

    /// <summary>How many <c>/health</c> requests task <paramref name="index"/> answered.</summary>
    public int HealthHits(int index) => Volatile.Read(ref _healthHits[index]);

    /// <summary>Makes task <paramref name="index"/> answer <c>GET /</c> with <paramref name="status"/> (0: back to 200).</summary>
    public void Answer(int index, int status) => Volatile.Write(ref _statuses[index], status);

    /// <summary>Makes task <paramref name="index"/> answer <c>GET /health</c> with <paramref name="status"/> (0: back to 200).</summary>
    public void AnswerHealth(int index, int status) => Volatile.Write(ref _healthStatuses[index], status);

    public int IndexOf(string address) => _tasks.IndexOf(address);

    /// <summary>Stops task <paramref name="index"/>: open connections close and new connects are refused.</summary>
    public Task KillAsync(int index) => _tasks.KillAsync(index);

    /// <summary>Replaces task <paramref name="index"/> with an address whose connects time out (see <see cref="LoopbackTasks.BlackHoleAsync"/>).</summary>
    public Task BlackHoleAsync(int index) => _tasks.BlackHoleAsync(index);

    public ValueTask DisposeAsync() => _tasks.DisposeAsync();

    private async Task HandleAsync(HttpContext context, int index, string self)
    {
        var aborted = context.RequestAborted;
        if (context.Request.Path.Value == "/health")
        {
            Interlocked.Increment(ref _healthHits[index]);
            context.Response.StatusCode = Volatile.Read(ref _healthStatuses[index]) is var h && h != 0 ? h : 200;
            return;
        }

        Interlocked.Increment(ref _hits[index]);
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
                if (Volatile.Read(ref _statuses[index]) is var status && status != 0)
                {
                    context.Response.StatusCode = status;
                }

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
