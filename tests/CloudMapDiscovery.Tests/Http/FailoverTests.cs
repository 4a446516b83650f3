using System.Diagnostics;
using System.Net.Sockets;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Http;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>Dead, vanished and unreachable tasks, failing DNS, and callers that give up.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class FailoverTests
{
    // Not a threshold: only a request that would otherwise wait for a timeout made too long to matter reaches it.
    private static readonly TimeSpan GuardAgainstHangs = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_task_killed_under_concurrent_load_costs_no_request_and_is_ejected()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        var completed = 0;
        var failures = new List<Exception>();
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WorkerAsync()
        {
            for (var i = 0; i < 200; i++)
            {
                try
                {
                    await client.GetStringAsync(h.Url());
                }
                catch (HttpRequestException ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex);
                    }
                }

                if (Interlocked.Increment(ref completed) == 100)
                {
                    halfway.SetResult();
                }
            }
        }

        async Task KillerAsync()
        {
            await halfway.Task;
            await h.Fleet.KillAsync(1);
        }

        await Task.WhenAll(WorkerAsync(), WorkerAsync(), KillerAsync());

        failures.Should().BeEmpty();
        h.Fleet.Hits(1).Should().BeInRange(20, 150, "the task served its share until it was killed");
        var killed = h.Endpoint(1);
        killed.State.Should().Be(EndpointState.Ejected);
        killed.ConsecutiveFailures.Should().BeGreaterThan(0);
        h.Endpoint(0).State.Should().Be(EndpointState.Healthy);
        h.Endpoint(2).State.Should().Be(EndpointState.Healthy);
        (h.Fleet.Hits(0) + h.Fleet.Hits(2)).Should().BeGreaterThanOrEqualTo(400 - h.Fleet.Hits(1));
    }

    [Fact]
    public async Task A_black_holed_task_costs_one_connect_timeout_once_and_is_ejected()
    {
        var connects = new ConnectCounter();
        await using var h = await DiscoveryHarness.StartAsync(
            3, o => o.ConnectTimeout = TimeSpan.FromMilliseconds(500), client: b => b.ConfigurePrimaryHttpMessageHandler(() => connects.CreateHandler()));
        using var client = h.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken); // warm: DNS, JIT and a pooled connection to every task
        }

        await h.Fleet.BlackHoleAsync(0);
        var before = connects.Count(h.Fleet.Addresses[0]);

        var times = new List<TimeSpan>();
        for (var i = 0; i < 9; i++)
        {
            var watch = Stopwatch.StartNew();
            var answer = await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
            times.Add(watch.Elapsed);
            answer.Should().NotBe("127.0.0.2");
        }

        // Real time can only make the first bound easier; the rest is counted, not timed: one dial of the black hole means
        // the request that met it went to another task after its one connect timeout, not through a second.
        times.Max().Should().BeGreaterThan(TimeSpan.FromMilliseconds(450), "one request met the black hole and waited out the connect timeout");
        (connects.Count(h.Fleet.Addresses[0]) - before).Should().Be(1, "after one timeout the address is ejected: no request dialled it again (so the request went to another task, not through the whole timeout again)");
        h.Endpoint(0).State.Should().Be(EndpointState.Ejected);
        (h.Fleet.Hits(1) + h.Fleet.Hits(2)).Should().Be(9 + 2);
    }

    [Fact]
    public async Task SocketsHttpHandler_reports_its_ConnectTimeout_as_a_cancellation_the_handler_classifies_as_a_connect_failure()
    {
        await using var fleet = await TaskFleet.StartAsync(1);
        await fleet.BlackHoleAsync(0);
        using var raw = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromMilliseconds(300) });

        var call = () => raw.GetAsync(new Uri($"http://127.0.0.2:{fleet.Port}/"));

        var thrown = (await call.Should().ThrowAsync<TaskCanceledException>()).Which;
        thrown.InnerException.Should().BeOfType<TimeoutException>().Which.Message.Should().Contain("ConnectTimeout");
        FailureClassifier.Classify(thrown, CancellationToken.None).Should().Be(FailureKind.Connect);
        FailureClassifier.Describe(thrown).Should().Be("connect timed out");
    }

    [Fact]
    public async Task Real_transport_failures_are_classified_by_whether_the_request_could_have_been_sent()
    {
        await using var fleet = await TaskFleet.StartAsync(2);
        using var raw = new HttpClient(new SocketsHttpHandler());
        await fleet.KillAsync(0);
        fleet.AbortNext = 1;

        var refused = (await ((Func<Task>)(() => raw.GetAsync(new Uri($"http://127.0.0.2:{fleet.Port}/")))).Should().ThrowAsync<HttpRequestException>()).Which;
        var reset = (await ((Func<Task>)(() => raw.PostAsync(new Uri($"http://127.0.0.3:{fleet.Port}/flaky"), new StringContent("x")))).Should().ThrowAsync<HttpRequestException>()).Which;

        FailureClassifier.Classify(refused, CancellationToken.None).Should().Be(FailureKind.Connect);
        FailureClassifier.Describe(refused).Should().Be("connection refused");
        FailureClassifier.Classify(reset, CancellationToken.None).Should().Be(FailureKind.AfterSend);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        FailureClassifier.Classify(new TaskCanceledException(), cancelled.Token).Should().Be(FailureKind.Cancelled);
        FailureClassifier.Classify(new TaskCanceledException("not a connect timeout"), CancellationToken.None)
            .Should().NotBe(FailureKind.Connect, "a cancellation the caller did not ask for may have come after the request was sent");
    }

    [Fact]
    public async Task When_every_task_is_down_the_request_fails_fast_naming_the_host_every_address_and_each_failure()
    {
        // Fast means no connect timeout is waited out: make it a minute, far past the real-time guard below, so that only
        // the refusals can end the request in time, however busy the machine.
        await using var h = await DiscoveryHarness.StartAsync(3, o => o.ConnectTimeout = TimeSpan.FromMinutes(1));
        using var client = h.CreateClient();
        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
        {
            await h.Fleet.KillAsync(i);
        }

        var call = () => client.GetStringAsync(h.Url("/path?q=1")).WaitAsync(GuardAgainstHangs, TestContext.Current.CancellationToken);

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>("refused connections end the request before any connect timeout")).Which;
        thrown.Message.Should().Contain("name.internal");
        foreach (var address in h.Fleet.Addresses)
        {
            thrown.Message.Should().Contain($"{address}:{h.Fleet.Port} (connection refused)");
        }

        thrown.HttpRequestError.Should().Be(HttpRequestError.ConnectionError);
        thrown.InnerException.Should().BeOfType<HttpRequestException>().Which.InnerException.Should().BeOfType<SocketException>();
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Ejected);
    }

    [Fact]
    public async Task A_name_with_no_instances_fails_with_what_DNS_said()
    {
        await using var h = await DiscoveryHarness.StartAsync(1);
        h.Dns.RemoveName("name");
        using var client = h.CreateClient();

        var call = () => client.GetStringAsync(h.Url());

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        thrown.Message.Should().StartWith("No instances are registered for name.internal").And.Contain("NXDOMAIN");
        thrown.HttpRequestError.Should().Be(HttpRequestError.NameResolutionError);
        thrown.InnerException.Should().BeOfType<ServiceDiscoveryException>().Which.NoInstances.Should().BeTrue();
        h.Fleet.TotalHits.Should().Be(0);
    }

    [Fact]
    public async Task A_cold_client_whose_DNS_server_is_down_fails_fast_naming_the_DNS_failure()
    {
        // Fast means the DNS timeout is not waited out: it runs on a clock that never moves, so only the refusal (ICMP port
        // unreachable) can end the lookup, within the real-time guard below however busy the machine.
        var frozen = new FakeTimeProvider();
        await using var h = await DiscoveryHarness.StartAsync(1, services: (s, _) => s.AddSingleton<TimeProvider>(frozen));
        await h.Dns.StopAsync();
        using var client = h.CreateClient();

        var call = () => client.GetStringAsync(h.Url()).WaitAsync(GuardAgainstHangs, TestContext.Current.CancellationToken);

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>("a refused DNS query ends the lookup before the DNS timeout")).Which;
        thrown.HttpRequestError.Should().Be(HttpRequestError.NameResolutionError);
        thrown.Message.Should().Contain("name.internal").And.Contain(h.NameServer);
        thrown.InnerException.Should().BeOfType<ServiceDiscoveryException>().Which.NoInstances.Should().BeFalse();
        h.Fleet.TotalHits.Should().Be(0);
    }

    [Fact]
    public async Task A_request_the_caller_cancels_is_neither_retried_nor_held_against_the_task()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        using var cts = new CancellationTokenSource();

        var call = client.GetAsync(h.Url("/slow"), cts.Token);
        await h.Fleet.SlowArrived.Task;
        await cts.CancelAsync();

        await ((Func<Task>)(() => call)).Should().ThrowAsync<OperationCanceledException>();
        h.Fleet.SlowHits.Should().Be(1);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0);
        h.Snapshot().Endpoints.Sum(e => e.RequestsPicked).Should().Be(1);
    }

    [Fact]
    public async Task An_HttpClient_Timeout_is_the_callers_cancellation_too()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);

        // Warm DNS, every task and a pooled connection to each first (a second client shares the handler), so that
        // the timeout goes to the slow request itself and not to a cold start under a busy test run.
        using (var warm = h.CreateClient())
        {
            for (var i = 0; i < 3; i++)
            {
                await warm.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
            }
        }

        using var client = h.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(2); // long enough for the request to reach the task on a busy machine

        var call = () => client.GetAsync(h.Url("/slow"));

        (await call.Should().ThrowAsync<TaskCanceledException>()).Which.InnerException.Should().BeOfType<TimeoutException>();
        h.Fleet.SlowHits.Should().Be(1);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0);
    }
}
