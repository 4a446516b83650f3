using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>The load-aware policies on hand-made sets: what they choose, never what a clock on the wall says.</summary>
public sealed class PolicyTests : IDisposable
{
    private readonly BalancingHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void PowerOfTwoChoices_never_sends_to_the_most_loaded_of_three_and_spreads_the_rest()
    {
        var (h, e, set, policy) = Start(3, LoadBalancingPolicy.PowerOfTwoChoices);
        for (var i = 0; i < 5; i++)
        {
            h.Entry.Start(e[0], policy); // five requests in flight on e[0]
        }

        var picks = Enumerable.Range(0, 600).Select(_ => h.Entry.Pick(set, null, policy, panic: true)).ToList();

        picks.Should().NotContain(e[0], "any other address drawn with it has fewer in flight");
        picks.Count(p => p == e[1]).Should().BeInRange(200, 400, "the other two share the requests");
    }

    [Fact]
    public void PowerOfTwoChoices_draws_two_distinct_addresses()
    {
        var (h, e, set, policy) = Start(2, LoadBalancingPolicy.PowerOfTwoChoices);
        h.Entry.Start(e[1], policy);

        Enumerable.Range(0, 200).Select(_ => h.Entry.Pick(set, null, policy, panic: true)).Should().OnlyContain(p => p == e[0], "with two addresses both are always drawn, so the idle one always wins");
    }

    [Fact]
    public void A_request_stops_counting_as_in_flight_when_it_finishes()
    {
        var h = _h;
        var e = BalancingHarness.Endpoints(1)[0];
        var started = h.Entry.Start(e, RoundRobinPolicy.Instance);
        e.Load.InFlight.Should().Be(1);
        h.Entry.Finish(e, started);
        e.Load.InFlight.Should().Be(0);
    }

    [Fact]
    public void PeakEwma_keeps_requests_off_a_slow_address_until_its_estimate_decays_below_its_peers()
    {
        var (h, e, set, policy) = Start(3, LoadBalancingPolicy.PeakEwma);
        Observe(h, policy, e[0], TimeSpan.FromMilliseconds(300));
        Observe(h, policy, e[1], TimeSpan.FromMilliseconds(1));
        Observe(h, policy, e[2], TimeSpan.FromMilliseconds(1));

        var picks = Enumerable.Range(0, 300).Select(_ => h.Entry.Pick(set, null, policy, panic: true)).ToList();
        picks.Should().NotContain(e[0], "300 ms against 1 ms").And.Contain(e[1]).And.Contain(e[2]);

        // A minute later, with the fast ones still answering in 1 ms, the slow one's estimate has decayed below theirs
        // (300 ms x e^-6 is about 0.74 ms): it gets a request again, which will show whether it is still slow.
        h.Clock.Advance(TimeSpan.FromSeconds(60));
        Observe(h, policy, e[1], TimeSpan.FromMilliseconds(1));
        Observe(h, policy, e[2], TimeSpan.FromMilliseconds(1));
        Enumerable.Range(0, 30).Select(_ => h.Entry.Pick(set, null, policy, panic: true)).Should().Contain(e[0]);
    }

    [Fact]
    public void PeakEwma_weighs_latency_by_requests_in_flight()
    {
        var (h, e, set, policy) = Start(2, LoadBalancingPolicy.PeakEwma);
        Observe(h, policy, e[0], TimeSpan.FromMilliseconds(2));
        Observe(h, policy, e[1], TimeSpan.FromMilliseconds(5));
        h.Entry.Pick(set, null, policy, panic: true).Should().BeSameAs(e[0], "2 ms x 1 is less than 5 ms x 1");

        for (var i = 0; i < 3; i++)
        {
            h.Entry.Start(e[0], policy);
        }

        h.Entry.Pick(set, null, policy, panic: true).Should().BeSameAs(e[1], "2 ms x 4 in flight is more than 5 ms x 1");
    }

    [Theory]
    [InlineData(LoadBalancingPolicy.RoundRobin)]
    [InlineData(LoadBalancingPolicy.PowerOfTwoChoices)]
    [InlineData(LoadBalancingPolicy.PeakEwma)]
    public void Every_policy_skips_ejected_addresses_panics_over_all_when_none_is_available_and_never_panics_on_a_retry(LoadBalancingPolicy kind)
    {
        var (h, e, set, policy) = Start(3, kind);

        h.Fail(e[0]);
        Enumerable.Range(0, 300).Select(_ => h.Entry.Pick(set, null, policy, panic: true)).Should().NotContain(e[0]).And.Contain(e[1]).And.Contain(e[2]);

        h.Fail(e[1]);
        h.Fail(e[2]);
        var panic = Enumerable.Range(0, 300).Select(_ => h.Entry.Pick(set, null, policy, panic: true)).ToList();
        panic.Should().NotContainNulls().And.Contain(e[0]).And.Contain(e[1]).And.Contain(e[2], "with none available the requests spread over all");
        h.Entry.Pick(set, [e[0]], policy, panic: false).Should().BeNull("a retry does not dial an address known to be out");
    }

    private (BalancingHarness H, BalancedEndpoint[] E, BalancedSet Set, PickPolicy Policy) Start(int endpoints, LoadBalancingPolicy policy)
    {
        var e = BalancingHarness.Endpoints(endpoints);
        return (_h, e, BalancingHarness.Set(e), PickPolicy.For(policy, _h.Registry.Context));
    }

    private static void Observe(BalancingHarness h, PickPolicy policy, BalancedEndpoint e, TimeSpan latency)
    {
        var started = h.Entry.Start(e, policy);
        h.Clock.Advance(latency);
        h.Entry.Finish(e, started);
    }
}
