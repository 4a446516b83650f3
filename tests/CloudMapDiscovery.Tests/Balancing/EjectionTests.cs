using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>Passive outlier ejection with BaseEjectionTime 10 s and MaxEjectionTime 25 s.</summary>
public sealed class EjectionTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(10);

    [Fact]
    public void One_connect_failure_ejects_for_about_BaseEjectionTime_and_the_endpoint_is_readmitted_after_it()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(3);
        var set = BalancingHarness.Set(e);

        h.Fail(e[0]);

        h.EjectedFor(e[0]).Should().BeCloseTo(Base, TimeSpan.FromSeconds(1), "10 s +- 10 % jitter");
        e[0].ConsecutiveFailures.Should().Be(1);
        var picks = Enumerable.Range(0, 300).Select(_ => h.Pick(set)).ToList();
        picks.Should().NotContain(e[0]);
        picks.Count(p => p == e[1]).Should().Be(150, "the ejected endpoint's share is spread evenly, not all given to its neighbour");
        picks.Count(p => p == e[2]).Should().Be(150);

        // One tick before the end it is still skipped; at the end it is back.
        h.Clock.Advance(h.EjectedFor(e[0]) - TimeSpan.FromTicks(1));
        Enumerable.Range(0, 30).Select(_ => h.Pick(set)).Should().NotContain(e[0]);
        h.Clock.Advance(TimeSpan.FromTicks(1));
        Enumerable.Range(0, 30).Select(_ => h.Pick(set)).Count(p => p == e[0]).Should().Be(10);
        e[0].EjectedUntil.Should().Be(0, "re-admission clears the ejection");
    }

    [Fact]
    public void Consecutive_ejections_grow_with_their_number_up_to_MaxEjectionTime()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(2);
        var set = BalancingHarness.Set(e);
        var durations = new List<TimeSpan>();

        for (var i = 0; i < 5; i++)
        {
            h.Fail(e[0]);
            var d = h.EjectedFor(e[0]);
            durations.Add(d);

            // A failure reported while already ejected (a request that was in flight) does not extend it.
            h.Fail(e[0]);
            h.EjectedFor(e[0]).Should().Be(d);
            e[0].Ejections.Should().Be(i + 1);

            h.Clock.Advance(d);
            Enumerable.Range(0, 4).Select(_ => h.Pick(set)).Should().Contain(e[0], "re-admitted after its time");
        }

        durations[0].Should().BeCloseTo(Base, TimeSpan.FromSeconds(1));
        durations[1].Should().BeCloseTo(2 * Base, TimeSpan.FromSeconds(2));
        durations.Skip(2).Should().OnlyContain(d => d >= TimeSpan.FromSeconds(22.5) && d <= TimeSpan.FromSeconds(25), "3 x 10 s is capped at 25 s (jitter never exceeds the cap)");
    }

    [Fact]
    public void A_success_on_an_ejected_endpoint_chosen_in_panic_ends_its_ejection()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(3);
        var set = BalancingHarness.Set(e);
        h.Fail(e[0]);
        h.Fail(e[1]);
        h.Fail(e[2]);

        // All ejected: panic, a request is never failed without trying; the one tried works.
        var tried = h.Pick(set);
        h.Succeed(tried);

        tried.EjectedUntil.Should().Be(0);
        Enumerable.Range(0, 10).Select(_ => h.Pick(set)).Should().OnlyContain(p => p == tried, "the others are still ejected");
    }

    [Fact]
    public void Success_resets_the_multiplier()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(2);

        h.Fail(e[0]);
        h.Clock.Advance(h.EjectedFor(e[0]));
        h.Fail(e[0]);
        h.EjectedFor(e[0]).Should().BeCloseTo(2 * Base, TimeSpan.FromSeconds(2));
        h.Clock.Advance(h.EjectedFor(e[0]));

        h.Succeed(e[0]);

        e[0].ConsecutiveFailures.Should().Be(0);
        e[0].Ejections.Should().Be(0);
        h.Fail(e[0]);
        h.EjectedFor(e[0]).Should().BeCloseTo(Base, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void After_readmission_the_next_failure_of_any_kind_ejects_again_at_once()
    {
        // The failure count is kept through re-admission, so a dead endpoint does not get a fresh failure window (dotnet/yarp#1082).
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(2);
        h.Fail(e[0]);
        h.Clock.Advance(h.EjectedFor(e[0]));

        h.Fail(e[0], connect: false);

        h.EjectedFor(e[0]).Should().BeCloseTo(2 * Base, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Other_failures_eject_only_after_ConsecutiveFailures_in_a_row()
    {
        using var h = new BalancingHarness(o => o.ConsecutiveFailures = 3);
        var e = BalancingHarness.Endpoints(2);

        h.Fail(e[0], connect: false);
        h.Fail(e[0], connect: false);
        e[0].EjectedUntil.Should().Be(0);
        e[0].ConsecutiveFailures.Should().Be(2);

        h.Succeed(e[0]);
        h.Fail(e[0], connect: false);
        h.Fail(e[0], connect: false);
        e[0].EjectedUntil.Should().Be(0, "a success in between starts the count again");

        h.Fail(e[0], connect: false);
        h.EjectedFor(e[0]).Should().BeCloseTo(Base, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void ConsecutiveConnectFailures_above_one_tolerates_a_single_connect_failure()
    {
        using var h = new BalancingHarness(o => o.ConsecutiveConnectFailures = 2);
        var e = BalancingHarness.Endpoints(2);

        h.Fail(e[0]);
        e[0].EjectedUntil.Should().Be(0);
        h.Fail(e[0]);
        e[0].EjectedUntil.Should().NotBe(0);
    }

    [Fact]
    public void Endpoints_ejected_together_come_back_at_different_times()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(50);

        foreach (var x in e)
        {
            h.Fail(x);
        }

        var ends = e.Select(h.EjectedFor).ToList();
        ends.Should().OnlyContain(d => d >= TimeSpan.FromSeconds(9) && d <= TimeSpan.FromSeconds(11));
        ends.Distinct().Should().HaveCountGreaterThan(1, "jitter spreads re-admission");
    }

    [Fact]
    public void Panic_when_every_endpoint_is_ejected_spreads_the_requests_over_all_of_them()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(3);
        var set = BalancingHarness.Set(e);

        // Ejections that end at different times: the one that ends soonest must not take every request.
        h.Fail(e[2]);
        h.Clock.Advance(h.EjectedFor(e[2]));
        h.Fail(e[2]); // 2nd ejection: 18-22 s
        h.Fail(e[0]); // 9-11 s
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        h.Fail(e[1]); // 5 + 9-11 s

        var picks = Enumerable.Range(0, 300).Select(_ => h.Pick(set)).ToList();

        foreach (var endpoint in e)
        {
            picks.Count(p => p == endpoint).Should().Be(100, "with nothing available every address gets its share (Envoy's and YARP's panic)");
        }

        e.Should().OnlyContain(x => x.EjectedUntil != 0, "a panic pick re-admits nothing");
        h.Entry.Pick(set, [e[0]], RoundRobinPolicy.Instance, panic: false).Should().BeNull("a retry does not panic: every address it may dial is known to fail");
    }

    [Fact]
    public void Exclude_list_is_honoured()
    {
        using var h = new BalancingHarness();
        var e = BalancingHarness.Endpoints(3);
        var set = BalancingHarness.Set(e);

        Enumerable.Range(0, 100).Select(_ => h.Pick(set, [e[0]])).Should().NotContain(e[0]).And.Contain(e[1]).And.Contain(e[2]);
        Enumerable.Range(0, 10).Select(_ => h.Pick(set, [e[0], e[2]])).Should().OnlyContain(p => p == e[1]);
        h.Entry.Pick(set, e).Should().BeNull("every endpoint was already tried");

        // An excluded endpoint is not picked even when the only other one is ejected (panic among the rest).
        h.Fail(e[1]);
        Enumerable.Range(0, 10).Select(_ => h.Pick(set, [e[0], e[2]])).Should().OnlyContain(p => p == e[1]);
        Enumerable.Range(0, 10).Select(_ => h.Pick(set, [e[0]])).Should().OnlyContain(p => p == e[2]);
    }
}
