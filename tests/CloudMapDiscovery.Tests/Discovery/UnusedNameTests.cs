using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>A name nobody uses costs a bounded number of queries, and the cache holds a bounded number of names.</summary>
public sealed class UnusedNameTests
{
    [Fact]
    public async Task A_name_asked_for_once_costs_at_most_three_queries_until_it_is_evicted()
    {
        // TTL 0 becomes MinTtl (5 s); IdleTimeout 10 min. Refreshing it ahead until eviction would cost 120 queries.
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(TimeSpan.Zero, 1);
        var once = h.Entry();
        await once.GetAsync(TestContext.Current.CancellationToken);

        await h.AdvanceAsync(h.Options.IdleTimeout + TimeSpan.FromSeconds(2), alsoWatch: once);

        h.AQueries.Should().BeLessThanOrEqualTo(3, "a name unused for two TTLs is not refreshed ahead any more");
        once.IsRetired.Should().BeTrue("it is still evicted after IdleTimeout");
        h.Cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task Two_hundred_one_off_names_cost_at_most_three_queries_each()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.IdleTimeout = TimeSpan.FromMinutes(2));
        var names = Enumerable.Range(1, 200).Select(i => $"hook{i}.internal").ToArray();
        foreach (var name in names)
        {
            h.Server.AddAddress(name, DiscoveryHarness.Ip(1), TimeSpan.Zero);
            await h.Entry(name).GetAsync(TestContext.Current.CancellationToken);
        }

        await h.AdvanceAsync(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(2));

        names.Sum(n => h.Server.GetQueryCount(n)).Should().BeLessThanOrEqualTo(600, "24 queries a name (IdleTimeout / MinTtl) would be 4,800");
        h.Cache.Count.Should().Be(0);
    }

    [Fact]
    public async Task The_cache_keeps_at_most_MaxCachedNames_dropping_the_least_recently_used_unheld_name()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.MaxCachedNames = 3);
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            h.Server.AddAddress(name, DiscoveryHarness.Ip(1), TimeSpan.FromSeconds(60));
        }

        var a = h.Entry("a.internal");
        var b = h.Entry("b.internal");
        var c = h.Entry("c.internal");
        await a.GetAsync(TestContext.Current.CancellationToken);
        await b.GetAsync(TestContext.Current.CancellationToken);
        await c.GetAsync(TestContext.Current.CancellationToken);
        using var hold = a.Hold();

        // b is used again later than c: c is the least recently used name that nobody holds.
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        DiscoveryHarness.Sync(b.GetAsync(TestContext.Current.CancellationToken));
        var d = h.Entry("d.internal");
        await d.GetAsync(TestContext.Current.CancellationToken);

        h.Cache.Count.Should().Be(3);
        c.IsRetired.Should().BeTrue("the least recently used name goes first");
        a.IsRetired.Should().BeFalse("a held name is kept, however long ago it was used");
        b.IsRetired.Should().BeFalse();
        h.Cache.TryGetService("c.internal", DiscoveryRecordTypes.A, out _).Should().BeFalse();
    }
}
