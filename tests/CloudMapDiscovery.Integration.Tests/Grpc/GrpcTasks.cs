using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Integration.Tests.Grpc;

/// <summary>
/// Simulated ECS tasks serving <c>TaskService</c> with Grpc.AspNetCore over HTTP/2 only (h2c, or TLS with a
/// certificate). Every reply names the task that wrote it; the tasks count what reached each of them.
/// </summary>
internal sealed class GrpcTasks : IAsyncDisposable
{
    private readonly ConcurrentQueue<(string Method, int Task)> _calls = new();
    private readonly int[] _messages;
    private int _hangs;

    private GrpcTasks(int count)
    {
        _messages = new int[count];
    }

    public LoopbackTasks Tasks { get; private set; } = null!;

    public int Port => Tasks.Port;

    /// <summary>Gets a task that completes when the first <c>Hang</c> call has arrived.</summary>
    public TaskCompletionSource HangArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets how many <c>Hang</c> calls arrived, on any task.</summary>
    public int Hangs => Volatile.Read(ref _hangs);

    public static async Task<GrpcTasks> StartAsync(int count, Func<int, X509Certificate2>? certificates = null)
    {
        var fleet = new GrpcTasks(count);
        fleet.Tasks = await LoopbackTasks.StartAsync(
            count,
            HttpProtocols.Http2,
            certificates,
            (builder, index) =>
            {
                builder.Services.AddGrpc();
                builder.Services.AddSingleton(new TaskIdentity(fleet, index, LoopbackTasks.Address(index).ToString()));
            },
            (app, _) => app.MapGrpcService<TaskServiceImpl>());
        return fleet;
    }

    /// <summary>How many calls of <paramref name="method"/> reached task <paramref name="task"/>.</summary>
    public int Calls(string method, int task) => _calls.Count(c => c.Method == method && c.Task == task);

    /// <summary>How many calls of any method reached task <paramref name="task"/>.</summary>
    public int Calls(int task) => _calls.Count(c => c.Task == task);

    public int TotalCalls => _calls.Count;

    /// <summary>How many client-stream messages task <paramref name="task"/> read.</summary>
    public int MessagesRead(int task) => Volatile.Read(ref _messages[task]);

    public ValueTask DisposeAsync() => Tasks.DisposeAsync();

    internal sealed record TaskIdentity(GrpcTasks Fleet, int Index, string Address)
    {
        public void Called(string method) => Fleet._calls.Enqueue((method, Index));

        public void Read() => Interlocked.Increment(ref Fleet._messages[Index]);

        public void Hung()
        {
            Interlocked.Increment(ref Fleet._hangs);
            Fleet.HangArrived.TrySetResult();
        }
    }

    /// <summary>The service each task runs; it knows which task it is from its own container.</summary>
    internal sealed class TaskServiceImpl(TaskIdentity self) : TaskService.TaskServiceBase
    {
        public override Task<WhoReply> Who(WhoRequest request, ServerCallContext context)
        {
            self.Called(nameof(Who));
            context.ResponseTrailers.Add("x-served-by", self.Address);
            return Task.FromResult(Reply(context, 0, request.Payload));
        }

        public override async Task Count(CountRequest request, IServerStreamWriter<WhoReply> responseStream, ServerCallContext context)
        {
            self.Called(nameof(Count));
            for (var i = 0; i < request.Count; i++)
            {
                await responseStream.WriteAsync(Reply(context, i, string.Empty), context.CancellationToken);
            }
        }

        public override async Task<WhoReply> Collect(IAsyncStreamReader<Item> requestStream, ServerCallContext context)
        {
            self.Called(nameof(Collect));
            var count = 0;
            var payloads = new List<string>();
            await foreach (var item in requestStream.ReadAllAsync(context.CancellationToken))
            {
                self.Read();
                count++;
                payloads.Add(item.Payload);
            }

            return Reply(context, count, string.Join(",", payloads));
        }

        public override async Task Chat(IAsyncStreamReader<Item> requestStream, IServerStreamWriter<WhoReply> responseStream, ServerCallContext context)
        {
            self.Called(nameof(Chat));
            var sequence = 0;
            await foreach (var item in requestStream.ReadAllAsync(context.CancellationToken))
            {
                self.Read();
                await responseStream.WriteAsync(Reply(context, sequence++, item.Payload), context.CancellationToken);
            }
        }

        public override Task<WhoReply> Fail(FailRequest request, ServerCallContext context)
        {
            self.Called(nameof(Fail));
            var trailers = new Metadata
            {
                { "x-served-by", self.Address },
                { "x-details-bin", [1, 2, 3, 0, 255] },
            };
            throw new RpcException(new Status((StatusCode)request.StatusCode, request.Detail), trailers);
        }

        public override Task<WhoReply> Abort(WhoRequest request, ServerCallContext context)
        {
            self.Called(nameof(Abort));
            context.GetHttpContext().Abort();
            return Task.FromResult(Reply(context, 0, "aborted"));
        }

        public override async Task<WhoReply> Hang(WhoRequest request, ServerCallContext context)
        {
            self.Called(nameof(Hang));
            self.Hung();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return Reply(context, 0, "never");
        }

        private WhoReply Reply(ServerCallContext context, int sequence, string payload) => new()
        {
            Task = self.Address,
            Authority = context.Host,
            Sni = context.GetHttpContext().Features.Get<ITlsHandshakeFeature>()?.HostName ?? string.Empty,
            Sequence = sequence,
            Payload = payload,
        };
    }
}
