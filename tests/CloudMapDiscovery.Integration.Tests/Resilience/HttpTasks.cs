using System.Collections.Concurrent;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// Simulated ECS tasks over HTTP/1.1 that count, per task, every request and every request body they read:
/// <list type="bullet">
/// <item><c>/</c>: answers its own address.</item>
/// <item><c>/status/NNN</c>: reads the body, answers status NNN with its own address.</item>
/// <item><c>/slow</c>: reads the body, then never answers (until the client goes away).</item>
/// <item><c>/abort</c>: reads the body, then aborts the connection: a failure after the request was sent.</item>
/// </list>
/// </summary>
internal sealed class HttpTasks : IAsyncDisposable
{
    private readonly int[] _requests;
    private readonly ConcurrentQueue<(int Task, string Body)> _bodies = new();
    private readonly int[] _slow;

    private HttpTasks(int count)
    {
        _requests = new int[count];
        _slow = new int[count];
    }

    public LoopbackTasks Tasks { get; private set; } = null!;

    public int Port => Tasks.Port;

    public int TotalRequests => _requests.Sum();

    public static async Task<HttpTasks> StartAsync(int count)
    {
        var fleet = new HttpTasks(count);
        fleet.Tasks = await LoopbackTasks.StartAsync(
            count, HttpProtocols.Http1, null, (_, _) => { }, (app, index) => app.Run(context => fleet.HandleAsync(context, index)));
        return fleet;
    }

    public int Requests(int task) => Volatile.Read(ref _requests[task]);

    /// <summary>The bodies task <paramref name="task"/> read in full.</summary>
    public string[] Bodies(int task) => _bodies.Where(b => b.Task == task).Select(b => b.Body).ToArray();

    public int TotalBodies => _bodies.Count;

    public int SlowHits(int task) => Volatile.Read(ref _slow[task]);

    public int TotalSlowHits => _slow.Sum();

    public ValueTask DisposeAsync() => Tasks.DisposeAsync();

    private async Task HandleAsync(HttpContext context, int index)
    {
        Interlocked.Increment(ref _requests[index]);
        var self = LoopbackTasks.Address(index).ToString();
        var aborted = context.RequestAborted;
        var path = context.Request.Path.Value ?? "/";
        if (path == "/")
        {
            await context.Response.WriteAsync(self, aborted);
            return;
        }

        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(aborted);
        if (HttpMethods.IsPost(context.Request.Method))
        {
            _bodies.Enqueue((index, body));
        }

        if (path.StartsWith("/status/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = int.Parse(path["/status/".Length..], System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(self, aborted);
        }
        else if (path == "/slow")
        {
            Interlocked.Increment(ref _slow[index]);
            try
            {
                await Task.Delay(Timeout.Infinite, aborted);
            }
            catch (OperationCanceledException)
            {
            }
        }
        else if (path == "/abort")
        {
            context.Abort();
        }
        else
        {
            context.Response.StatusCode = 404;
        }
    }
}
