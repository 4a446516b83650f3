using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;
using static CloudMapDiscovery.Integration.Tests.Resilience.Compositions;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// <c>AddStandardResilienceHandler()</c> with discovery, registered both ways. The resilience handler always ends up
/// outside discovery (discovery moves itself below it): each of its attempts is a new pick (another task), and
/// discovery's own failover happens inside one attempt, so a dead task never reaches the retry or the circuit breaker.
/// Were it inside, its retries would go to the address already picked and one dead task would open the breaker for all.
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class StandardResilienceTests
{
    [Fact]
    public async Task Registered_first_each_retry_goes_to_another_task()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2)));
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503", TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Should().Equal(1, 1, 1);
        Enumerable.Range(0, 3).Select(h.Endpoint).Should().OnlyContain(e => e.State == EndpointState.Healthy, "a 503 is an answer, not held against the task by default");
    }

    [Fact]
    public async Task Chained_after_discovery_the_standard_handler_is_still_outside_it_and_each_retry_goes_to_another_task()
    {
        // .AddCloudMapDiscovery().AddStandardResilienceHandler() is the order the API invites (the standard handler
        // returns a pipeline builder, so nothing chains after it); discovery moves itself below it.
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceChainedAfter(o => Retries(o, 2)));
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503", TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Should().Equal(1, 1, 1);
    }

    [Fact]
    public async Task With_discovery_on_every_client_a_per_client_standard_handler_still_ends_up_outside_discovery()
    {
        await using var h = await ResilienceHarness.StartAsync(
            3,
            (client, _) => client.AddStandardResilienceHandler(o => Retries(o, 2)),
            services: (services, discovery) => services.AddCloudMapDiscoveryToAllHttpClients(discovery));
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/503", TestContext.Current.CancellationToken);

        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Should().Equal([1, 1, 1], "defaults come first, but discovery goes below the client's resilience handler");
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

        using var response = await client.GetAsync("/status/503", TestContext.Current.CancellationToken);

        Enumerable.Range(0, 3).Select(h.Tasks.Requests).Should().Equal(1, 1, 1);
    }

    [Theory]
    [InlineData(false)] // AddStandardResilienceHandler() first
    [InlineData(true)] // .AddCloudMapDiscovery().AddStandardResilienceHandler(): discovery moves itself below
    public async Task Either_way_round_a_dead_task_reaches_neither_the_retry_nor_the_circuit_breaker(bool discoveryFirst)
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, discoveryFirst ? ResilienceChainedAfter(o => SensitiveBreaker(o, events)) : ResilienceOutside(o => SensitiveBreaker(o, events)));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.KillAsync(1); // before any connection to it: nothing stale in the pool
        var answers = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add(await client.GetStringAsync("/", TestContext.Current.CancellationToken));
        }

        answers.Should().NotContain("127.0.0.3");
        h.Connects(1).Should().Be(1, "one refused connect, then the task was ejected");
        h.Endpoint(1).State.Should().Be(EndpointState.Ejected);
        events.Retries.Should().Be(0, "discovery retried the refused connect on another task within the same attempt");
        events.BreakerOpened.Should().Be(0, "a breaker inside discovery would have opened for every task");
    }

    [Fact]
    public async Task Registered_first_each_attempt_timeout_moves_the_request_to_another_task_without_blaming_the_slow_one()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o =>
        {
            Retries(o, 2, events);
            o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1); // each attempt reaches its task even on a busy machine
        }));
        using var client = h.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync("/", TestContext.Current.CancellationToken); // warm: each attempt's second goes to the request itself
        }

        var retriesBefore = events.Retries; // a warm-up attempt slowed by a busy machine is not this request's retry
        var call = () => client.GetAsync("/slow");

        await call.Should().ThrowAsync<TimeoutRejectedException>();
        Enumerable.Range(0, 3).Select(h.Tasks.SlowHits).Should().Equal(1, 1, 1);
        (events.Retries - retriesBefore).Should().Be(2);
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
            (await client.GetStringAsync("/", TestContext.Current.CancellationToken)).Should().NotBe("127.0.0.3");
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
            (await client.GetStringAsync("/", TestContext.Current.CancellationToken)).Should().NotBe("127.0.0.3");
        }

        events.Retries.Should().BeGreaterThan(0, "requests that picked the black hole were rescued by the outer retry, after a 300 ms attempt timeout each");
        h.Endpoint(1).State.Should().Be(EndpointState.Healthy, "the connect never failed: the attempt timeout cancelled it first, so discovery learnt nothing");
        h.Endpoint(1).ConsecutiveFailures.Should().Be(0);
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
