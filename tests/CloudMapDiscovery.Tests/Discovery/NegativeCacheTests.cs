using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Tests.Discovery;

public sealed class NegativeCacheTests
{
    [Fact]
    public async Task Nxdomain_with_a_900_s_soa_is_cached_for_NegativeTtlCap_and_a_registration_is_seen_right_after()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.NegativeTtlCap = TimeSpan.FromSeconds(8));
        h.Server.NegativeTtl = TimeSpan.FromSeconds(900);
        var entry = h.Entry();

        var empty = await entry.GetAsync(TestContext.Current.CancellationToken);

        empty.Endpoints.Should().BeEmpty();
        empty.NegativeReason.Should().Contain("NXDOMAIN").And.Contain(DiscoveryHarness.Host);
        empty.Ttl.Should().Be(TimeSpan.FromSeconds(8), "the namespace's 900 s is capped");
        h.Snapshot().NoInstancesReason.Should().Contain("NXDOMAIN");

        // Scale from zero: an instance registers. Within the cap the negative answer stands, without new queries.
        h.SetAddresses(TimeSpan.FromSeconds(10), 7);
        await h.AdvanceAsync(TimeSpan.FromSeconds(5)); // 62 % of the cap
        for (var i = 0; i < 1_000; i++)
        {
            (await entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(empty);
        }

        h.AQueries.Should().Be(1);

        await h.AdvanceAsync(TimeSpan.FromSeconds(3) + TimeSpan.FromTicks(1)); // just past the cap
        var after = await entry.GetAsync(TestContext.Current.CancellationToken);

        DiscoveryHarness.Texts(after).Should().Equal(DiscoveryHarness.Texts(7));
        after.NegativeReason.Should().BeNull();
        h.AQueries.Should().Be(2);
    }

    [Fact]
    public async Task Request_past_the_cap_waits_for_the_new_answer_while_the_sweepers_refresh_is_out()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.NegativeTtlCap = TimeSpan.FromSeconds(5));
        h.Server.NegativeTtl = TimeSpan.FromSeconds(900);
        var entry = h.Entry();
        (await entry.GetAsync(TestContext.Current.CancellationToken)).Endpoints.Should().BeEmpty();
        h.SetAddresses(TimeSpan.FromSeconds(10), 9);

        // One jump past the cap: the request must not be served the expired negative answer.
        // DNS holds its answers, so a refresh the sweeper started on the way is still in flight too.
        h.HoldAnswers();
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        var get = entry.GetAsync(TestContext.Current.CancellationToken);
        get.IsCompleted.Should().BeFalse("an expired negative answer is not served");
        await h.ReleaseAnswersAsync(held: 1);

        DiscoveryHarness.Texts(await get.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().Equal(DiscoveryHarness.Texts(9));
        h.AQueries.Should().Be(2);
    }

    [Fact]
    public async Task Nodata_is_a_negative_answer_too()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddAddress("name", System.Net.IPAddress.IPv6Loopback, TimeSpan.FromSeconds(10));

        var set = await h.Entry().GetAsync(TestContext.Current.CancellationToken);

        set.Endpoints.Should().BeEmpty();
        set.NegativeReason.Should().Contain("NODATA");
        set.Ttl.Should().Be(h.Options.NegativeTtlCap);
    }

    [Fact]
    public async Task A_name_that_stays_nxdomain_is_asked_at_most_once_per_cap_under_load()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.NegativeTtl = TimeSpan.FromSeconds(900);
        var entry = h.Entry();

        // 60 simulated seconds at 1,000 requests per second.
        for (var i = 0; i < 60_000; i++)
        {
            h.Clock.Advance(TimeSpan.FromMilliseconds(1));
            var get = entry.GetAsync(TestContext.Current.CancellationToken);
            if (!get.IsCompleted)
            {
                await get;
            }

            await DiscoveryHarness.Settle(entry);
        }

        var cap = h.Options.NegativeTtlCap.TotalSeconds;
        h.Server.GetQueryCount(DiscoveryHarness.Host, DnsRecordType.A).Should().BeInRange(60 / (int)cap, 1 + (int)(60 / (cap * 0.75)), "no NXDOMAIN refresh loop (envoy#7808)");
    }
}
