using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Tests.Discovery;

namespace CloudMapDiscovery.Tests.Balancing;

public sealed class RoundRobinTests
{
    [Fact]
    public void Three_thousand_picks_over_three_endpoints_give_each_a_thousand_in_strict_rotation()
    {
        using var h = new BalancingHarness();
        var endpoints = BalancingHarness.Endpoints(3);
        var set = BalancingHarness.Set(endpoints);

        var picks = Enumerable.Range(0, 3_000).Select(_ => h.Pick(set)).ToList();

        foreach (var e in endpoints)
        {
            picks.Count(p => p == e).Should().BeInRange(999, 1_001);
            e.Picks.Should().Be(picks.Count(p => p == e), "each pick is counted for the diagnostic snapshot");
        }

        picks.Zip(picks.Skip(3)).Should().OnlyContain(p => p.First == p.Second, "round robin, not random");
        picks.Take(3).Distinct().Should().HaveCount(3);
    }

    [Theory]
    [InlineData(3, new[] { 0 })]
    [InlineData(3, new[] { 2 })]
    [InlineData(4, new[] { 0, 2 })]
    [InlineData(5, new[] { 1 })]
    [InlineData(6, new[] { 0, 3 })]
    [InlineData(8, new[] { 0, 1, 2, 3, 4 })]
    public void Share_of_ejected_endpoints_is_spread_evenly_over_the_others(int n, int[] ejected)
    {
        using var h = new BalancingHarness();
        var endpoints = BalancingHarness.Endpoints(n);
        var set = BalancingHarness.Set(endpoints);
        foreach (var i in ejected)
        {
            h.Fail(endpoints[i]);
        }

        var available = endpoints.Where((_, i) => !ejected.Contains(i)).ToList();
        var total = n * available.Count * 100;
        var picks = Enumerable.Range(0, total).Select(_ => h.Pick(set)).ToList();

        picks.Should().NotContain(ejected.Select(i => endpoints[i]));
        foreach (var e in available)
        {
            picks.Count(p => p == e).Should().BeCloseTo(total / available.Count, (uint)n, "no neighbour of an ejected endpoint takes its whole share");
        }
    }

    [Fact]
    public void Each_service_entry_starts_at_a_random_offset()
    {
        var endpoints = BalancingHarness.Endpoints(10);
        var firsts = new HashSet<BalancedEndpoint>();
        for (var i = 0; i < 20; i++)
        {
            using var h = new BalancingHarness();
            firsts.Add(h.Pick(BalancingHarness.Set(endpoints)));
        }

        // All 20 starting at the same endpoint has probability 10^-19 with random starts, 1 with index 0.
        firsts.Should().HaveCountGreaterThan(1, "processes started together must not all begin with the same task");
    }

    [Fact]
    public void Counter_overflow_wraps_without_throwing_and_stays_balanced()
    {
        using var h = new BalancingHarness();
        var endpoints = BalancingHarness.Endpoints(3);
        var set = BalancingHarness.Set(endpoints);
        EntryHooks.SetCounter(h.Entry, uint.MaxValue - 1_500);

        var picks = Enumerable.Range(0, 3_000).Select(_ => h.Pick(set)).ToList();

        EntryHooks.Counter(h.Entry).Should().Be(1_499u, "the counter wrapped past uint.MaxValue");
        foreach (var e in endpoints)
        {
            picks.Count(p => p == e).Should().BeInRange(999, 1_001);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    public void Picker_at_uint_MaxValue_stays_in_range_for_any_set_size(int n)
    {
        using var h = new BalancingHarness();
        var endpoints = BalancingHarness.Endpoints(n);
        var counter = uint.MaxValue - 2;

        for (var i = 0; i < 10; i++)
        {
            EndpointPicker.Pick(endpoints, ref counter, RoundRobinPolicy.Instance, null, panic: true, h.Clock, null).Should().NotBeNull();
        }

        // Same on the slow path (an exclude list and an ejected endpoint).
        counter = uint.MaxValue;
        var exclude = new[] { endpoints[0] };
        EndpointPicker.Pick(endpoints, ref counter, RoundRobinPolicy.Instance, exclude, panic: true, h.Clock, null).Should().Be(n == 1 ? null : endpoints[1 % n]);
        counter.Should().BeLessThan(2u, "the counter wrapped (a pick that finds nothing available panics, which counts once more)");
    }

    [Fact]
    public void A_first_attempt_pick_finds_an_unexcluded_endpoint_even_when_its_candidates_are_ejected_while_it_counts_them()
    {
        using var h = new BalancingHarness(o => o.ProbeEjectedEndpoints = false);
        var e = BalancingHarness.Endpoints(3);
        h.Fail(e[2]);
        e[2].EjectedUntil.Should().NotBe(0);
        h.Clock.Advance(h.EjectedFor(e[2])); // its ejection is over: the pick re-admits it

        // Other requests eject both untried endpoints between the picker's count and its choice (here, from the
        // re-admission callback, which runs in between).
        var counter = 2u; // the pick starts at e[0], which this request already tried
        var picked = EndpointPicker.Pick(e, ref counter, RoundRobinPolicy.Instance, [e[0]], panic: true, h.Clock, readmitted =>
        {
            h.Fail(e[1]);
            h.Fail(readmitted);
        });

        e[1].EjectedUntil.Should().NotBe(0);
        e[2].EjectedUntil.Should().NotBe(0);
        picked.Should().NotBeNull("an endpoint the request has not tried is left, ejected or not").And.NotBeSameAs(e[0]);
    }

    [Fact]
    public async Task Set_shrinking_and_growing_under_two_picking_threads_never_throws()
    {
        using var h = new BalancingHarness();
        var all = BalancingHarness.Endpoints(8);
        h.Fail(all[2]); // an ejected endpoint sends some picks down the slow path
        BalancedSet[] sets = [BalancingHarness.Set(all), BalancingHarness.Set(all[..5]), BalancingHarness.Set(all[..1]), BalancingHarness.Set(all[2..4]), BalancingHarness.Set(all[..3]), BalancingHarness.Set(all[6..])];
        var current = sets[0];
        using var stop = new CancellationTokenSource();

        var pickers = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            var exclude = t == 0 ? null : new[] { all[0] };
            var picks = 0;
            while (!stop.IsCancellationRequested || picks < 10_000)
            {
                var set = Volatile.Read(ref current);
                var picked = h.Entry.Pick(set, exclude);
                if (picked is null)
                {
                    // Only when every endpoint of the set is excluded.
                    set.Endpoints.Should().OnlyContain(e => exclude != null && exclude.Contains(e));
                }
                else
                {
                    set.Endpoints.Should().Contain(picked);
                }

                picks++;
            }

            return picks;
        })).ToList();

        for (var i = 0; i < 200_000; i++)
        {
            Volatile.Write(ref current, sets[i % sets.Length]);
        }

        await stop.CancelAsync();
        var counts = await Task.WhenAll(pickers).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        counts.Should().OnlyContain(c => c >= 10_000);
    }

    [Fact]
    public void Empty_set_picks_nothing()
    {
        using var h = new BalancingHarness();
        h.Entry.Pick(BalancingHarness.Set(), null).Should().BeNull();
    }
}
