using System.Text;
using CloudMapDiscovery.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>What may be sent again after a failure: never a body that cannot be replayed, never a non-idempotent request that may have arrived.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class RetrySafetyTests
{
    [Fact]
    public async Task A_POST_with_a_stream_body_that_broke_after_sending_is_not_sent_again()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        h.Fleet.AbortNext = 1;

        var call = () => client.PostAsync(h.Url("/flaky"), new StreamContent(new NonSeekableStream("order-1")));

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        thrown.Message.Should().Contain("Not retried elsewhere").And.Contain("name.internal").And.Contain("POST");
        h.Fleet.BodiesReceived.Should().Be(1, "the body reached one task and must not reach another");
        h.Fleet.TotalHits.Should().Be(1);
    }

    [Fact]
    public async Task A_POST_with_a_buffered_body_that_broke_after_sending_is_not_sent_again_without_opt_in()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        h.Fleet.AbortNext = 1;

        var call = () => client.PostAsync(h.Url("/flaky"), new ByteArrayContent("order-2"u8.ToArray()));

        (await call.Should().ThrowAsync<HttpRequestException>()).Which.Message.Should().Contain("Not retried elsewhere");
        h.Fleet.BodiesReceived.Should().Be(1);
    }

    [Fact]
    public async Task A_GET_that_broke_after_sending_is_retried_on_another_task()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        h.Fleet.AbortNext = 1;

        var answer = await client.GetStringAsync(h.Url("/flaky"), TestContext.Current.CancellationToken);

        h.Fleet.TotalHits.Should().Be(2);
        var second = h.Fleet.IndexOf(answer.Split(':')[0]);
        h.Fleet.Hits(second).Should().Be(1, "the retry went to a task this request had not tried");
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy, "one failure after sending does not eject");
        h.Snapshot().Endpoints.Sum(e => e.ConsecutiveFailures).Should().Be(1);
    }

    [Fact]
    public async Task A_POST_with_a_buffered_body_and_the_opt_in_is_retried_on_another_task()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        h.Fleet.AbortNext = 1;
        using var request = new HttpRequestMessage(HttpMethod.Post, h.Url("/flaky")) { Content = new ByteArrayContent("order-3"u8.ToArray()) };
        request.Options.Set(CloudMapRequestOptions.AllowRetryAfterSend, true);

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        response.EnsureSuccessStatusCode();
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().EndWith(":order-3", "the second task got the same bytes");
        h.Fleet.BodiesReceived.Should().Be(2);
    }

    [Fact]
    public async Task A_stream_body_is_never_replayed_even_with_the_opt_in()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        h.Fleet.AbortNext = 1;
        using var request = new HttpRequestMessage(HttpMethod.Put, h.Url("/flaky")) { Content = new StreamContent(new NonSeekableStream("put-1")) };
        request.Options.Set(CloudMapRequestOptions.AllowRetryAfterSend, true);

        var call = () => client.SendAsync(request);

        await call.Should().ThrowAsync<HttpRequestException>();
        h.Fleet.BodiesReceived.Should().Be(1, "PUT is idempotent, but this body cannot be read twice");
    }

    [Fact]
    public async Task A_POST_whose_connection_was_refused_is_retried_because_nothing_was_sent()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        await h.Fleet.KillAsync(0);
        using var client = h.CreateClient();

        // Round robin: of two consecutive requests, one starts on the dead task (unless the first ejected it).
        var first = await client.PostAsync(h.Url("/echo"), new StreamContent(new NonSeekableStream("a")), TestContext.Current.CancellationToken);
        var second = await client.PostAsync(h.Url("/echo"), new StreamContent(new NonSeekableStream("b")), TestContext.Current.CancellationToken);

        (await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be("a");
        (await second.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be("b");
        h.Fleet.BodiesReceived.Should().Be(2);
        h.Endpoint(0).State.Should().Be(EndpointState.Ejected, "one of the POSTs met the refused connection and went on");
        h.Endpoint(0).RequestsPicked.Should().Be(1);
    }

    [Fact]
    public async Task A_POST_cancelled_below_the_handler_after_it_was_sent_is_not_retried()
    {
        // A per-attempt timeout handler added after discovery (so below it) cancels an attempt already on the wire.
        TaskFleet? fleet = null;
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            services: (s, dns) => s.AddHttpClient("per-try")
                .AddCloudMapDiscovery(o => o.NameServers.Add(dns.EndPoint.ToString()))
                .AddHttpMessageHandler(() => new CancelOnBodyHandler(() => fleet!)));
        fleet = h.Fleet;
        using var client = h.CreateClient("per-try");

        var call = () => client.PostAsync(h.Url("/hang"), new StringContent("order-4"));

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        thrown.InnerException.Should().BeAssignableTo<OperationCanceledException>();
        thrown.Message.Should().Contain("Not retried elsewhere");
        h.Fleet.BodiesReceived.Should().Be(1, "the POST reached a task; a cancellation from below is not a connect failure");
        h.Snapshot().Endpoints.Sum(e => e.RequestsPicked).Should().Be(1);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy, "one failure after sending does not eject");
    }

    /// <summary>Cancels each attempt once a task has read its body, as a per-try timeout firing late would.</summary>
    private sealed class CancelOnBodyHandler(Func<TaskFleet> fleet) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var target = fleet();
            _ = target.WhenBodiesReceived(target.BodiesReceived + 1).ContinueWith(
                static (_, state) => ((CancellationTokenSource)state!).Cancel(),
                attempt,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return await base.SendAsync(request, attempt.Token);
        }
    }
}
