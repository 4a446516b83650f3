using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// <c>AddStandardResilienceHandler()</c> with discovery, registered both ways. Registered first, the resilience handler
/// is outside discovery: each of its attempts is a new pick (another task), and discovery's own failover happens inside
/// one attempt, so a dead task never reaches the retry or the circuit breaker. Registered after discovery it is inside:
/// its retries go to the address already picked, and one dead task opens the breaker for all of them.
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class StandardResilienceTests
{
    /// <summary>Recommended: the standard handler first (outer), discovery second (inner).</summary>
    private static Action<IHttpClientBuilder, Action<IHttpClientBuilder>> ResilienceOutside(Action<HttpStandardResilienceOptions> options)
        => (client, addDiscovery) =>
        {
            client.AddStandardResilienceHandler(options);
            addDiscovery(client);
        };

    /// <summary>The order <c>.AddCloudMapDiscovery().AddStandardResilienceHandler()</c> chains to: discovery outer.</summary>
    private static Action<IHttpClientBuilder, Action<IHttpClientBuilder>> ResilienceInside(Action<HttpStandardResilienceOptions> options)
        => (client, addDiscovery) =>
        {
            addDiscovery(client);
            client.AddStandardResilienceHandler(options);
        };

    [Fact]
    public async Task Registered_first_each_retry_goes_to_another_task()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2)));
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Should().Equal(1, 1, 1);
        Enumerable.Range(0, 3).Select(h.Endpoint).Should().OnlyContain(e => e.State == EndpointState.Healthy, "a 503 is an answer, not held against the task by default");
    }

    [Fact]
    public async Task Registered_after_discovery_every_retry_goes_to_the_task_already_picked()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceInside(o => Retries(o, 2)));
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Order().Should().Equal(0, 0, 3);
    }

    [Fact]
    public async Task With_discovery_on_every_client_a_per_client_standard_handler_ends_up_inside_discovery()
    {
        await using var h = await ResilienceHarness.StartAsync(
            3,
            (client, _) => client.AddStandardResilienceHandler(o => Retries(o, 2)),
            services: (services, discovery) => services.AddCloudMapDiscoveryToAllHttpClients(discovery));
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503");

        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Order().Should().Equal([0, 0, 3], "defaults are applied before a client's own handlers, so discovery is outermost");
    }

    [Fact]
    public async Task Added_to_every_client_before_discovery_the_standard_handler_stays_outside_it()
    {
        await using var h = await ResilienceHarness.StartAsync(
            3,
            (_, _) => { },
            services: (services, discovery) =>
            {
                services.ConfigureHttpClientDefaults(b => b.AddStandardResilienceHandler(o => Retries(o, 2)));
                services.AddCloudMapDiscoveryToAllHttpClients(discovery);
            });
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503");

        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Should().Equal(1, 1, 1);
    }

    [Fact]
    public async Task Registered_first_a_dead_task_reaches_neither_the_retry_nor_the_circuit_breaker()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => SensitiveBreaker(o, events)));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.KillAsync(1); // before any connection to it: nothing stale in the pool
        var answers = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await client.GetStringAsync("/"));
        }

        answers.Should().NotContain("127.0.0.3");
        h.Connects(1).Should().Be(1, "one refused connect, then the task was ejected");
        h.Endpoint(1).State.Should().Be(EndpointState.Ejected);
        events.Retries.Should().Be(0, "discovery retried the refused connect on another task within the same attempt");
        events.BreakerOpened.Should().Be(0);
    }

    [Fact]
    public async Task Registered_after_discovery_a_dead_task_is_retried_in_place_and_opens_the_breaker_for_every_task()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceInside(o => SensitiveBreaker(o, events)));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.KillAsync(1); // before any connection to it: nothing stale in the pool
        Exception? first = null;
        for (var i = 0; i < 3 && first is null; i++)
        {
            first = await Record.ExceptionAsync(() => client.GetStringAsync("/"));
        }

        first.Should().BeOfType<BrokenCircuitException>("discovery's failover to a live task ran into the breaker the dead task had opened");
        h.Connects(1).Should().BeInRange(1, 2, "the attempt, and its retry to the same dead address unless the breaker had already opened");
        events.Retries.Should().Be(1);
        events.BreakerOpened.Should().Be(1);

        var healthyBefore = h.Tasks.Requests(0) + h.Tasks.Requests(2);
        for (var i = 0; i < 3; i++)
        {
            await ((Func<Task>)(() => client.GetStringAsync("/"))).Should().ThrowAsync<BrokenCircuitException>();
        }

        (h.Tasks.Requests(0) + h.Tasks.Requests(2)).Should().Be(healthyBefore, "the open breaker now refuses requests that would have gone to live tasks");
    }

    [Fact]
    public async Task Registered_first_each_attempt_timeout_moves_the_request_to_another_task_without_blaming_the_slow_one()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o =>
        {
            Retries(o, 2, events);
            o.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(250);
        }));
        using var client = h.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync("/"); // warm: each attempt's 250 ms go to the request itself
        }

        var call = () => client.GetAsync("/slow");

        await call.Should().ThrowAsync<TimeoutRejectedException>();
        Enumerable.Range(0, 3).Select(h.Tasks.SlowHits).Should().Equal(1, 1, 1);
        events.Retries.Should().Be(2);
        Enumerable.Range(0, 3).Select(h.Endpoint).Should().OnlyContain(
            e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0, "the attempt timeout cancelled the request; the task failed nothing");
    }

    [Fact]
    public async Task With_the_attempt_timeout_above_the_connect_timeout_a_black_holed_task_is_ejected_within_one_attempt()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(
            3, ResilienceOutside(o => Retries(o, 2, events)), o => o.ConnectTimeout = TimeSpan.FromMilliseconds(300));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.BlackHoleAsync(1);
        for (var i = 0; i < 6; i++)
        {
            (await client.GetStringAsync("/")).Should().NotBe("127.0.0.3");
        }

        events.Retries.Should().Be(0);
        h.Endpoint(1).State.Should().Be(EndpointState.Ejected);
    }

    [Fact]
    public async Task With_the_attempt_timeout_below_the_connect_timeout_a_black_holed_task_costs_an_attempt_timeout_and_is_never_ejected()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(
            3,
            ResilienceOutside(o =>
            {
                Retries(o, 2, events);
                o.AttemptTimeout.Timeout = TimeSpan.FromMilliseconds(300);
            }),
            o => o.ConnectTimeout = TimeSpan.FromSeconds(5));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.BlackHoleAsync(1);
        for (var i = 0; i < 6; i++)
        {
            (await client.GetStringAsync("/")).Should().NotBe("127.0.0.3");
        }

        events.Retries.Should().BeGreaterThan(0, "requests that picked the black hole were rescued by the outer retry, after a 300 ms attempt timeout each");
        h.Endpoint(1).State.Should().Be(EndpointState.Healthy, "the connect never failed: the attempt timeout cancelled it first, so discovery learnt nothing");
        h.Endpoint(1).ConsecutiveFailures.Should().Be(0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_POST_that_failed_after_sending_is_sent_again_by_the_standard_retry_unless_unsafe_methods_are_excluded(bool excludeUnsafe)
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o =>
        {
            Retries(o, 2, events);
            if (excludeUnsafe)
            {
#pragma warning disable EXTEXP0001 // experimental in Microsoft.Extensions.Http.Resilience 10.x
                o.Retry.DisableForUnsafeHttpMethods();
#pragma warning restore EXTEXP0001
            }
        }));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/abort", new StringContent("order-1"));

        await call.Should().ThrowAsync<HttpRequestException>();
        var bodies = Enumerable.Range(0, 3).Select(t => h.Tasks.Bodies(t).Length).ToArray();
        if (excludeUnsafe)
        {
            bodies.Order().Should().Equal(0, 0, 1);
            events.Retries.Should().Be(0);
        }
        else
        {
            bodies.Should().Equal([1, 1, 1], "discovery did not re-send the POST, but the standard retry did, to the next task each time");
            events.Retries.Should().Be(2);
        }
    }

    [Fact]
    public async Task A_non_replayable_POST_body_is_sent_once_even_when_the_standard_retry_tries_again()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2, events)));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/abort", new StreamContent(new OneWayStream("order-2"u8.ToArray())));

        // The standard retry does try twice more, but StreamContent refuses to be read again: each retry fails in its send.
        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        thrown.ToString().Should().Contain("The stream was already consumed");
        events.Retries.Should().Be(2);
        h.Tasks.TotalBodies.Should().Be(1, "the body was read once, by the first task");
        h.Tasks.TotalRequests.Should().Be(1, "neither retry reached a task: each failed while its request was being written");
    }

    [Fact(Skip = "library bug: a send that fails because the request's own body cannot be read again (InvalidOperationException inside the HttpRequestException) is counted as a failure of the task it was going to; see the report")]
    public async Task A_body_that_cannot_be_read_again_is_not_held_against_the_tasks_the_retries_picked()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2)));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/abort", new StreamContent(new OneWayStream("order-3"u8.ToArray())));

        await call.Should().ThrowAsync<HttpRequestException>();
        var untouched = Enumerable.Range(0, 3).Where(t => h.Tasks.Requests(t) == 0).ToArray();
        untouched.Should().HaveCount(2);
        untouched.Select(h.Endpoint).Should().OnlyContain(e => e.ConsecutiveFailures == 0, "nothing reached these tasks; the body failed on the client");
    }

    [Fact]
    public async Task A_non_replayable_POST_body_goes_to_a_live_task_once_when_a_task_is_dead()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2)));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.KillAsync(0);

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync("/status/200", new StreamContent(new OneWayStream([(byte)('a' + i)])));
            response.EnsureSuccessStatusCode();
        }

        h.Tasks.Bodies(1).Concat(h.Tasks.Bodies(2)).Order().Should().Equal("a", "b", "c");
        h.Tasks.TotalBodies.Should().Be(3);
    }

    private static void Retries(HttpStandardResilienceOptions o, int retries, ResilienceEvents? events = null)
    {
        o.Retry.MaxRetryAttempts = retries;
        o.Retry.Delay = TimeSpan.Zero;
        if (events is not null)
        {
            o.Retry.OnRetry = _ =>
            {
                events.Retry();
                return default;
            };
        }
    }

    /// <summary>One retry, and a breaker that opens once a quarter of at least two outcomes failed.</summary>
    private static void SensitiveBreaker(HttpStandardResilienceOptions o, ResilienceEvents events)
    {
        Retries(o, 1, events);
        o.CircuitBreaker.MinimumThroughput = 2;
        o.CircuitBreaker.FailureRatio = 0.25;
        o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        o.CircuitBreaker.OnOpened = _ =>
        {
            events.Opened();
            return default;
        };
    }
}
