using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>Idle eviction, and nothing leaking across IHttpClientFactory handler rotations.</summary>
public sealed class LifetimeTests
{
    [Fact]
    public async Task Entry_unused_for_IdleTimeout_is_evicted_by_the_sweep_and_refreshed_no_more()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(30));
        h.SetAddresses(TimeSpan.Zero, 1);
        h.Server.AddAddress("busy", DiscoveryHarness.Ip(2), TimeSpan.Zero);
        var idle = h.Entry();
        var busy = h.Entry("busy.internal");
        await idle.GetAsync(TestContext.Current.CancellationToken);
        await busy.GetAsync(TestContext.Current.CancellationToken);

        // The unused name is refreshed ahead for two TTLs at most (nobody reads the answers); the busy one is used every 10 s.
        for (var i = 0; i < 3; i++)
        {
            await h.AdvanceAsync(TimeSpan.FromSeconds(10), alsoWatch: idle);
            await busy.GetAsync(TestContext.Current.CancellationToken);
        }

        h.Cache.TryGetService(DiscoveryHarness.Host, DiscoveryRecordTypes.A, out _).Should().BeFalse("unused for 30 s");
        h.Cache.TryGetService("busy.internal", DiscoveryRecordTypes.A, out _).Should().BeTrue();
        h.Cache.Count.Should().Be(1);
        h.Registry.GetSnapshot().Select(s => s.Host).Should().Equal("busy.internal");
        var queriesAtEviction = h.AQueries;
        queriesAtEviction.Should().BeLessThanOrEqualTo(3, "a name unused for two TTLs is not refreshed ahead any more");

        for (var i = 0; i < 6; i++)
        {
            await h.AdvanceAsync(TimeSpan.FromSeconds(10), alsoWatch: idle);
            await busy.GetAsync(TestContext.Current.CancellationToken);
        }

        h.AQueries.Should().Be(queriesAtEviction, "an evicted name is not refreshed");
        h.Server.GetQueryCount("busy.internal").Should().BeGreaterThan(10, "the used name still is");

        // Asked for again, the name starts cold with a fresh entry.
        var again = h.Entry();
        again.Should().NotBeSameAs(idle);
        again.Current.Should().BeNull();
        (await again.GetAsync(TestContext.Current.CancellationToken)).Endpoints.Should().ContainSingle();
        h.AQueries.Should().Be(queriesAtEviction + 1);
    }

    [Fact]
    public async Task A_held_entry_is_not_evicted_and_its_idle_time_counts_from_the_last_release()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(30));
        h.SetAddresses(TimeSpan.Zero, 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        var first = entry.Hold();
        var second = entry.Hold();

        await h.AdvanceAsync(TimeSpan.FromSeconds(90), alsoWatch: entry);
        first.Dispose();
        first.Dispose(); // a second release of one hold counts once
        await h.AdvanceAsync(TimeSpan.FromSeconds(40), alsoWatch: entry);

        entry.IsRetired.Should().BeFalse("held for 130 s without a request, by one holder still");
        entry.IsHeld.Should().BeTrue();
        h.AQueries.Should().BeGreaterThan(15, "a held name is refreshed like any cached one");

        second.Dispose();
        await h.AdvanceAsync(TimeSpan.FromSeconds(29), alsoWatch: entry);
        entry.IsRetired.Should().BeFalse("idle time counts from the release, not from the last request");
        await h.AdvanceAsync(TimeSpan.FromSeconds(2), alsoWatch: entry);
        entry.IsRetired.Should().BeTrue();
    }

    [Fact]
    public void Thousand_handler_rotations_share_one_cache_and_one_timer()
    {
        var clock = new TestClock();
        using var registry = new Registries(clock);
        var options = Options();

        var first = registry.GetCache(options);
        clock.ActiveTimers.Should().Be(0, "the sweeper starts with the first name");
        for (var i = 0; i < 1_000; i++)
        {
            // A rotation creates a new handler, which looks its cache up again, with the same or an equal options object.
            var cache = registry.GetCache(i % 2 == 0 ? options : Options());
            cache.Should().BeSameAs(first);
            cache.GetService("name.internal", DiscoveryRecordTypes.A).Should().BeSameAs(first.GetService("name.internal", DiscoveryRecordTypes.A));
            cache.GetService($"svc{i % 50}.internal", DiscoveryRecordTypes.A);
        }

        registry.CacheCount.Should().Be(1);
        first.Count.Should().Be(51);
        clock.ActiveTimers.Should().Be(1, "one sweeper per cache, not per name or handler");

        registry.Dispose();

        clock.ActiveTimers.Should().Be(0, "disposing stops the timer");
        first.Count.Should().Be(0);
        var afterDispose = () => first.GetService("new.internal", DiscoveryRecordTypes.A);
        afterDispose.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Different_settings_get_their_own_cache_and_the_cache_keeps_a_copy_of_the_options()
    {
        var clock = new TestClock();
        using var registry = new Registries(clock);
        var a = Options();
        var b = Options();
        b.MinTtl = TimeSpan.FromSeconds(7);

        var cacheA = registry.GetCache(a);
        var cacheB = registry.GetCache(b);
        cacheA.GetService("x.internal", DiscoveryRecordTypes.A);
        cacheB.GetService("x.internal", DiscoveryRecordTypes.A);

        cacheB.Should().NotBeSameAs(cacheA);
        clock.ActiveTimers.Should().Be(2);

        // A later change to the caller's options object (configuration reload) does not alter a live cache.
        a.MinTtl = TimeSpan.FromSeconds(9);
        cacheA.Settings.Cache.MinTtl.Should().Be(TimeSpan.FromSeconds(5));
        registry.GetCache(a).Should().NotBeSameAs(cacheA);

        registry.Dispose();
        clock.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public async Task Warm_entries_leave_no_timer_behind_after_their_queries()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            h.Server.AddAddress($"svc{i}", DiscoveryHarness.Ip(i + 1), TimeSpan.FromSeconds(10));
            await h.Entry($"svc{i}.internal").GetAsync(TestContext.Current.CancellationToken);
        }

        await h.AdvanceAsync(TimeSpan.FromSeconds(30));

        h.Clock.ActiveTimers.Should().Be(1, "DNS timeout timers are disposed after each query; only the sweeper remains");
        h.Registry.Dispose();
        h.Clock.ActiveTimers.Should().Be(0);
    }

    private static CloudMapDiscoveryOptions Options()
    {
        var o = new CloudMapDiscoveryOptions { DnsAttempts = 1 };
        o.NameServers.Add("127.0.0.1:53");
        return o;
    }
}
