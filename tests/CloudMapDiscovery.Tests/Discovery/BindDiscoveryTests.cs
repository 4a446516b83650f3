using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>The endpoint cache against a real BIND 9 serving the Cloud Map style zone of <see cref="BindZone"/>.</summary>
[Collection(BindCollectionDefinition.Name)]
public sealed class BindDiscoveryTests
{
    private readonly BindServer _bind;

    public BindDiscoveryTests(BindServer bind)
    {
        _bind = bind;
    }

    [Fact]
    public async Task Ttl_of_a_real_answer_is_honoured_and_ttl_0_gets_the_floor()
    {
        BindServer.SkipIfUnavailable();
        var (registry, cache, _) = Create();
        using var _r = registry;

        var three = await cache.GetService(BindZone.Three, DiscoveryRecordTypes.A).GetAsync(TestContext.Current.CancellationToken);
        var ttl0 = await cache.GetService(BindZone.Ttl0, DiscoveryRecordTypes.A).GetAsync(TestContext.Current.CancellationToken);
        var missing = await cache.GetService(BindZone.Missing, DiscoveryRecordTypes.A).GetAsync(TestContext.Current.CancellationToken);

        three.Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.ThreeTtl));
        three.Endpoints.Select(e => e.Address.Address.ToString()).Should().BeEquivalentTo(BindZone.ThreeAddresses);
        ttl0.Ttl.Should().Be(cache.Settings.Cache.MinTtl);
        ttl0.Endpoints.Single().Address.ToString().Should().Be(BindZone.Ttl0Address);
        missing.Endpoints.Should().BeEmpty();
        missing.NegativeReason.Should().Contain("NXDOMAIN");
        missing.Ttl.Should().Be(cache.Settings.Cache.NegativeTtlCap, "BIND's 900 s negative TTL is capped");
    }

    [Fact]
    public async Task Record_added_at_run_time_appears_after_the_refresh()
    {
        BindServer.SkipIfUnavailable();
        const string name = "discovery-added.internal";
        await _bind.AddRecordAsync(name, 20, "A", "127.0.0.30");
        try
        {
            var (registry, cache, clock) = Create();
            using var _r = registry;
            var entry = cache.GetService(name, DiscoveryRecordTypes.A);
            var first = await entry.GetAsync(TestContext.Current.CancellationToken);
            first.Endpoints.Select(e => e.Address.Address.ToString()).Should().Equal("127.0.0.30");
            first.Ttl.Should().Be(TimeSpan.FromSeconds(20));

            await _bind.AddRecordAsync(name, 20, "A", "127.0.0.31");
            (await entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(first, "within its TTL the cached answer stands");

            // The sweeper (1 s timer on the manual clock) refreshes the name in use between 15 s and 18 s.
            for (var i = 0; i < 19; i++)
            {
                entry.TryGetFresh();
                clock.Advance(TimeSpan.FromSeconds(1));
                await DiscoveryHarness.Settle(entry);
            }

            (await entry.GetAsync(TestContext.Current.CancellationToken)).Endpoints.Select(e => e.Address.Address.ToString()).Should().BeEquivalentTo(["127.0.0.30", "127.0.0.31"]);
        }
        finally
        {
            await _bind.RemoveRecordAsync(name, "A");
        }
    }

    [Fact]
    public async Task Hundred_and_fifty_records_arrive_over_tcp_and_are_all_used()
    {
        BindServer.SkipIfUnavailable();
        var (registry, _, _) = Create();
        using var _r = registry;
        var entry = registry.GetBalancers(Options()).GetBalancer(BindZone.Many, DiscoveryRecordTypes.A);

        var set = await entry.GetAsync(TestContext.Current.CancellationToken);

        set.Endpoints.Should().HaveCount(150);
        set.Endpoints.Select(e => e.Address.Address.ToString()).Should().BeEquivalentTo(BindZone.ManyAddresses);
        entry.Service.Current!.Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.ManyTtl));
        var picks = Enumerable.Range(0, 300).Select(_ => entry.Pick(set, null)!).ToList();
        picks.GroupBy(p => p).Should().HaveCount(150).And.OnlyContain(g => g.Count() == 2, "round robin covers every record");
    }

    private (Registries Registry, DiscoveryPartition Cache, TestClock Clock) Create()
    {
        var clock = new TestClock();
        var registry = new Registries(clock);
        return (registry, registry.GetCache(Options()), clock);
    }

    private CloudMapDiscoveryOptions Options()
    {
        var options = new CloudMapDiscoveryOptions { DnsAttempts = 1, DnsTimeout = TimeSpan.FromSeconds(2) };
        options.NameServers.Add(_bind.NameServer);
        return options;
    }
}
