using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using CloudMapDiscovery.Tests.Http;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// <c>AddStandardHedgingHandler()</c> with discovery. Registered first, each hedged attempt is its own request through
/// discovery and goes to another task. Registered after discovery, its copies of the request carry the task address
/// and Host header already chosen, so every attempt goes to the same task. Hedging sends a request body to several
/// tasks by design, and refuses a StreamContent body outright.
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class HedgingTests
{
    private static Action<IHttpClientBuilder, Action<IHttpClientBuilder>> HedgingOutside(int hedgedAttempts)
        => (client, addDiscovery) =>
        {
            client.AddStandardHedgingHandler().Configure(o => Quick(o, hedgedAttempts));
            addDiscovery(client);
        };

    private static Action<IHttpClientBuilder, Action<IHttpClientBuilder>> HedgingChainedAfter(int hedgedAttempts)
        => (client, addDiscovery) =>
        {
            addDiscovery(client);
            client.AddStandardHedgingHandler().Configure(o => Quick(o, hedgedAttempts));
        };

    [Theory]
    [InlineData(false)] // AddStandardHedgingHandler() first
    [InlineData(true)] // .AddCloudMapDiscovery().AddStandardHedgingHandler(): discovery moves itself below
    public async Task Either_way_round_each_hedged_attempt_goes_to_another_task(bool discoveryFirst)
    {
        await using var h = await ResilienceHarness.StartAsync(3, discoveryFirst ? HedgingChainedAfter(2) : HedgingOutside(2));
        using var client = h.CreateClient();
        using var cancel = new CancellationTokenSource();

        var pending = client.GetAsync("/slow", cancel.Token);
        await Poll.UntilAsync(() => h.Tasks.TotalSlowHits == 3, "the three slow requests");
        await cancel.CancelAsync();

        await ((Func<Task>)(() => pending)).Should().ThrowAsync<OperationCanceledException>();
        Enumerable.Range(0, 3).Select(h.Tasks.SlowHits).Order().Should().Equal(1, 1, 1);
        Enumerable.Range(0, 3).Select(h.Endpoint).Should().OnlyContain(e => e.State == EndpointState.Healthy && e.ConsecutiveFailures == 0);
    }

    [Fact]
    public async Task A_hedged_attempt_answers_while_the_first_is_still_connecting_to_a_black_hole_which_stays_in_rotation()
    {
        // A connect timeout of a minute, far beyond the bound below: a busy machine cannot make a request that never waited
        // for it look as if it had.
        await using var h = await ResilienceHarness.StartAsync(2, HedgingOutside(1), o => o.ConnectTimeout = TimeSpan.FromMinutes(1));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.BlackHoleAsync(0);

        var (answers, elapsed) = await AskFourTimes(client);

        answers.Should().AllBe("127.0.0.3");
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "no request waited for the one-minute connect timeout");
        h.Connects(0).Should().BeGreaterThan(0, "round robin sent attempts to the black hole, and hedges rescued them");
        h.Endpoint(0).State.Should().Be(EndpointState.Healthy, "hedging cancelled those connects before they failed, so discovery never saw a failure");
        h.Endpoint(0).ConsecutiveFailures.Should().Be(0);
    }

    [Fact]
    public async Task With_the_hedging_delay_above_the_connect_timeout_a_black_holed_task_is_ejected_without_a_hedge()
    {
        await using var h = await ResilienceHarness.StartAsync(
            2,
            (client, addDiscovery) =>
            {
                // A hedging delay of 20 s (under the handler's 30 s total timeout), well beyond the bound below: a
                // busy machine cannot make a hedge look needed.
                client.AddStandardHedgingHandler().Configure(o => o.Hedging.Delay = TimeSpan.FromSeconds(20));
                addDiscovery(client);
            },
            o => o.ConnectTimeout = TimeSpan.FromMilliseconds(200));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.BlackHoleAsync(0);

        var (answers, elapsed) = await AskFourTimes(client);

        answers.Should().AllBe("127.0.0.3");
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15), "discovery moved the request after the 200 ms connect timeout; no hedge was needed");
        h.Endpoint(0).State.Should().Be(EndpointState.Ejected);
    }

    [Fact]
    public async Task Hedging_sends_one_POST_body_to_two_tasks()
    {
        await using var h = await ResilienceHarness.StartAsync(3, HedgingOutside(1));
        using var client = h.CreateClient();
        using var cancel = new CancellationTokenSource();

        var pending = client.PostAsync("/slow", new StringContent("order-4"), cancel.Token);
        await Poll.UntilAsync(() => h.Tasks.TotalBodies == 2, "both bodies read");
        await cancel.CancelAsync();

        await ((Func<Task>)(() => pending)).Should().ThrowAsync<OperationCanceledException>();
        Enumerable.Range(0, 3).Select(t => h.Tasks.Bodies(t).Length).Order().Should().Equal(0, 1, 1);
    }

    [Fact]
    public async Task The_hedging_handler_refuses_a_StreamContent_body_before_anything_is_sent()
    {
        await using var h = await ResilienceHarness.StartAsync(3, HedgingOutside(1));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/status/200", new StreamContent(new NonSeekableStream("order-5")));

        (await call.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("StreamContent");
        h.Tasks.TotalRequests.Should().Be(0);
    }

    /// <summary>The next attempt 100 ms after the last one started; the 2 s default would make slow tests.</summary>
    private static void Quick(HttpStandardHedgingResilienceOptions o, int hedgedAttempts)
    {
        o.Hedging.MaxHedgedAttempts = hedgedAttempts;
        o.Hedging.Delay = TimeSpan.FromMilliseconds(100);
    }

    private static async Task<(List<string> Answers, TimeSpan Elapsed)> AskFourTimes(HttpClient client)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await client.GetStringAsync("/"));
        }

        return (answers, watch.Elapsed);
    }
}
