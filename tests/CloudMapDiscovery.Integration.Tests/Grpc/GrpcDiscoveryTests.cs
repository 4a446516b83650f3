using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Integration.Tests.Grpc;

/// <summary>
/// <c>AddGrpcClient&lt;T&gt;(o => o.Address = new Uri("http://name.internal:port")).AddCloudMapDiscovery()</c> against
/// real Grpc.AspNetCore tasks over h2c: each call goes to the next task, a refused or black-holed task costs no call,
/// a call that may have reached a task is not sent again, and what the server says comes back as it said it.
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class GrpcDiscoveryTests
{
    [Fact]
    public async Task The_channel_sends_every_call_through_the_handler_chain_and_leaves_connecting_to_it()
    {
        await using var h = await GrpcHarness.StartAsync(2);

        // grpc-dotnet takes over a SocketsHttpHandler it finds at the bottom of the chain (it sets ConnectCallback and
        // connects its subchannel to the address in the channel's URI, name.internal); discovery must keep it out, or
        // the task address the handler picked would never be used.
        h.PrimaryHandler.ConnectCallback.Should().BeNull();
        h.PrimaryHandler.ConnectTimeout.Should().Be(TimeSpan.FromSeconds(2), "discovery's ConnectTimeout replaced the infinite default on the gRPC factory's own handler");

        var reply = await h.Client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken);
        reply.Task.Should().BeOneOf("127.0.0.2", "127.0.0.3");
    }

    [Fact]
    public async Task Calls_spread_one_by_one_over_the_tasks_with_the_service_name_as_authority()
    {
        await using var h = await GrpcHarness.StartAsync(3);
        var client = h.Client;

        var sequential = new List<WhoReply>();
        for (var i = 0; i < 9; i++)
        {
            sequential.Add(await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken));
        }

        sequential.Select(r => r.Task).Distinct().Should().HaveCount(3);
        sequential.Select(r => r.Task).Chunk(3).Should().AllSatisfy(round => round.Distinct().Should().HaveCount(3, "round robin: each task once per round"));
        sequential.Should().AllSatisfy(r =>
        {
            r.Authority.Should().Be(h.Authority, ":authority carries the name, not the task address");
            r.Sni.Should().BeEmpty("h2c");
        });

        // Concurrent calls share one HTTP/2 connection per task, yet each call is balanced on its own.
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => client.WhoAsync(new WhoRequest()).ResponseAsync));
        concurrent.GroupBy(r => r.Task).Select(g => g.Count()).Should().Equal(10, 10, 10);
        for (var task = 0; task < 3; task++)
        {
            h.Tasks.Calls(nameof(TaskService.TaskServiceClient.Who), task).Should().Be(13);
        }

        h.Snapshot().Endpoints.Should().OnlyContain(e => e.RequestsPicked == 13 && e.State == EndpointState.Healthy);
    }

    [Fact]
    public async Task A_refused_connect_is_retried_on_another_task_and_the_task_is_ejected()
    {
        // Stopped before the client ever connected: a task that died under a live connection may also fail the calls
        // in flight on it, which is another matter.
        await using var h = await GrpcHarness.StartAsync(3);
        var client = h.Client;
        await h.Tasks.Tasks.KillAsync(1);

        var replies = new List<WhoReply>();
        for (var i = 0; i < 6; i++)
        {
            replies.Add(await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken));
        }

        replies.Select(r => r.Task).Should().NotContain("127.0.0.3").And.HaveCount(6);
        h.Tasks.Calls(1).Should().Be(0);
        var dead = h.Endpoint(1);
        dead.RequestsPicked.Should().Be(1, "one call picked it, was refused, and succeeded elsewhere");
        dead.State.Should().Be(EndpointState.Ejected);
        h.Tasks.Calls(0).Should().Be(replies.Count(r => r.Task == "127.0.0.2"));
    }

    [Fact]
    public async Task A_black_holed_task_costs_one_connect_timeout_and_the_call_succeeds_elsewhere()
    {
        await using var h = await GrpcHarness.StartAsync(3, configure: o => o.ConnectTimeout = TimeSpan.FromMilliseconds(300));
        var client = h.Client;
        await h.Tasks.Tasks.BlackHoleAsync(0);

        var replies = new List<WhoReply>();
        for (var i = 0; i < 6; i++)
        {
            replies.Add(await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken));
        }

        // Counted, not timed: the black hole was picked once (one 300 ms connect timeout), then the live tasks took
        // every call at once.
        replies.Select(r => r.Task).Should().NotContain("127.0.0.2");
        var holed = h.Endpoint(0);
        holed.RequestsPicked.Should().Be(1, "one 300 ms connect timeout");
        holed.State.Should().Be(EndpointState.Ejected);
        (h.Tasks.Calls(1) + h.Tasks.Calls(2)).Should().Be(6, "then the other tasks at once");
    }

    [Fact]
    public async Task A_call_that_failed_after_reaching_a_task_is_not_sent_again()
    {
        await using var h = await GrpcHarness.StartAsync(3);

        var call = () => h.Client.AbortAsync(new WhoRequest()).ResponseAsync;

        var thrown = (await call.Should().ThrowAsync<RpcException>()).Which;
        thrown.StatusCode.Should().NotBe(StatusCode.OK);
        h.Tasks.TotalCalls.Should().Be(1, "a gRPC call is a POST with a streamed body: it may have been processed, so it goes nowhere else");
        h.Snapshot().Endpoints.Sum(e => e.RequestsPicked).Should().Be(1);
    }

    [Fact]
    public async Task A_server_stream_stays_on_its_task_while_other_calls_move_on()
    {
        await using var h = await GrpcHarness.StartAsync(3);
        var client = h.Client;

        using var first = client.Count(new CountRequest { Count = 5 }, cancellationToken: TestContext.Current.CancellationToken);
        using var second = client.Count(new CountRequest { Count = 5 }, cancellationToken: TestContext.Current.CancellationToken);
        using var third = client.Count(new CountRequest { Count = 5 }, cancellationToken: TestContext.Current.CancellationToken);
        var streams = new[] { first, second, third };
        var seen = streams.Select(_ => new List<WhoReply>()).ToArray();
        for (var round = 0; round < 5; round++)
        {
            for (var s = 0; s < streams.Length; s++)
            {
                (await streams[s].ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();
                seen[s].Add(streams[s].ResponseStream.Current);
            }

            await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken); // unary calls in between keep rotating over the tasks
        }

        for (var s = 0; s < streams.Length; s++)
        {
            (await streams[s].ResponseStream.MoveNext(CancellationToken.None)).Should().BeFalse();
            seen[s].Select(r => r.Sequence).Should().Equal(0, 1, 2, 3, 4);
            seen[s].Select(r => r.Task).Distinct().Should().ContainSingle("every message of a stream comes from the task that took the call");
        }

        seen.Select(m => m[0].Task).Should().OnlyHaveUniqueItems("three streams started one after another went to three tasks");
        h.Tasks.Calls(nameof(TaskService.TaskServiceClient.Who), 0).Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Client_and_bidirectional_streams_stay_on_their_task_while_other_calls_move_on()
    {
        await using var h = await GrpcHarness.StartAsync(3);
        var client = h.Client;

        using var collect = client.Collect(cancellationToken: TestContext.Current.CancellationToken);
        using var chat = client.Chat(cancellationToken: TestContext.Current.CancellationToken);
        var chatReplies = new List<WhoReply>();
        for (var i = 0; i < 4; i++)
        {
            await collect.RequestStream.WriteAsync(new Item { Payload = $"c{i}" }, TestContext.Current.CancellationToken);
            await chat.RequestStream.WriteAsync(new Item { Payload = $"b{i}" }, TestContext.Current.CancellationToken);
            (await chat.ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();
            chatReplies.Add(chat.ResponseStream.Current);
            await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken);
        }

        await collect.RequestStream.CompleteAsync();
        await chat.RequestStream.CompleteAsync();
        (await chat.ResponseStream.MoveNext(CancellationToken.None)).Should().BeFalse();
        var collected = await collect.ResponseAsync;

        collected.Sequence.Should().Be(4);
        collected.Payload.Should().Be("c0,c1,c2,c3");
        chatReplies.Select(r => r.Payload).Should().Equal("b0", "b1", "b2", "b3");
        var chatTask = chatReplies.Select(r => r.Task).Distinct().Should().ContainSingle().Subject;
        chatTask.Should().NotBe(collected.Task, "two calls in a row go to two tasks");

        // Every message was read by the task that took its stream, and by no other.
        var collectIndex = h.Tasks.Tasks.IndexOf(collected.Task);
        var chatIndex = h.Tasks.Tasks.IndexOf(chatTask);
        for (var task = 0; task < 3; task++)
        {
            var expected = (task == collectIndex ? 4 : 0) + (task == chatIndex ? 4 : 0);
            h.Tasks.MessagesRead(task).Should().Be(expected);
        }

        h.Tasks.TotalCalls.Should().Be(2 + 4);
        h.Tasks.Calls(nameof(TaskService.TaskServiceClient.Who), 0).Should().BeGreaterThan(0);
        h.Tasks.Calls(nameof(TaskService.TaskServiceClient.Who), 1).Should().BeGreaterThan(0);
        h.Tasks.Calls(nameof(TaskService.TaskServiceClient.Who), 2).Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task An_exceeded_deadline_is_neither_retried_nor_held_against_the_task()
    {
        await using var h = await GrpcHarness.StartAsync(3);
        var client = h.Client;
        for (var i = 0; i < 3; i++)
        {
            await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken); // warm: the deadline goes to the call itself
        }

        var call = () => client.HangAsync(new WhoRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ResponseAsync; // time to reach the task on a busy machine

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.DeadlineExceeded);
        h.Tasks.Hangs.Should().Be(1);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0);
        h.Snapshot().Endpoints.Sum(e => e.RequestsPicked).Should().Be(4);
    }

    [Fact]
    public async Task A_cancelled_call_is_neither_retried_nor_held_against_the_task()
    {
        await using var h = await GrpcHarness.StartAsync(3);
        using var cancel = new CancellationTokenSource();

        var pending = h.Client.HangAsync(new WhoRequest(), cancellationToken: cancel.Token).ResponseAsync;
        await h.Tasks.HangArrived.Task;
        await cancel.CancelAsync();

        (await ((Func<Task>)(() => pending)).Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Cancelled);
        h.Tasks.Hangs.Should().Be(1);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0);
        h.Snapshot().Endpoints.Sum(e => e.RequestsPicked).Should().Be(1);
    }

    [Theory]
    [InlineData(StatusCode.FailedPrecondition)]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.Internal)]
    public async Task A_non_OK_status_comes_back_with_its_detail_and_trailers_from_one_task(StatusCode status)
    {
        await using var h = await GrpcHarness.StartAsync(3);

        var call = () => h.Client.FailAsync(new FailRequest { StatusCode = (int)status, Detail = "no: ü" }).ResponseAsync;

        var thrown = (await call.Should().ThrowAsync<RpcException>()).Which;
        thrown.StatusCode.Should().Be(status);
        thrown.Status.Detail.Should().Be("no: ü");
        var servedBy = thrown.Trailers.GetValue("x-served-by");
        servedBy.Should().BeOneOf("127.0.0.2", "127.0.0.3", "127.0.0.4");
        thrown.Trailers.GetValueBytes("x-details-bin").Should().Equal(1, 2, 3, 0, 255);
        h.Tasks.TotalCalls.Should().Be(1, "a status is the server's answer: the handler does not retry it");
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0);
    }

    [Fact]
    public async Task Each_attempt_of_a_gRPC_retry_policy_goes_to_the_next_task()
    {
        var retry = new MethodConfig
        {
            Names = { new MethodName { Service = "cloudmap.tests.TaskService", Method = "Fail" } },
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = 3,
                InitialBackoff = TimeSpan.FromMilliseconds(1),
                MaxBackoff = TimeSpan.FromMilliseconds(1),
                BackoffMultiplier = 1,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        await using var h = await GrpcHarness.StartAsync(3, client: b => b.ConfigureChannel(o => o.ServiceConfig = new ServiceConfig { MethodConfigs = { retry } }));

        var call = () => h.Client.FailAsync(new FailRequest { StatusCode = (int)StatusCode.Unavailable, Detail = "busy" }).ResponseAsync;

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unavailable);
        for (var task = 0; task < 3; task++)
        {
            h.Tasks.Calls(nameof(TaskService.TaskServiceClient.Fail), task).Should().Be(1, "every attempt is a new HTTP request, balanced on its own");
        }
    }

    [Fact]
    public async Task Trailers_of_a_successful_call_come_through()
    {
        await using var h = await GrpcHarness.StartAsync(2);

        using var call = h.Client.WhoAsync(new WhoRequest { Payload = "p" }, cancellationToken: TestContext.Current.CancellationToken);
        var reply = await call.ResponseAsync;

        reply.Payload.Should().Be("p");
        call.GetStatus().StatusCode.Should().Be(StatusCode.OK);
        call.GetTrailers().GetValue("x-served-by").Should().Be(reply.Task);
    }
}
