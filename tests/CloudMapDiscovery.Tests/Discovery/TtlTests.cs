using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Tests.Discovery;

public sealed class TtlTests
{
    [Fact]
    public async Task Ttl_0_becomes_MinTtl_and_10000_requests_within_it_cost_one_query()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(TimeSpan.Zero, 1, 2);
        var entry = h.Entry();

        var first = await entry.GetAsync(TestContext.Current.CancellationToken);

        first.Ttl.Should().Be(h.Options.MinTtl, "TTL 0 (the AWS sample) must not mean a query per request");
        DiscoveryHarness.Texts(first).Should().Equal(DiscoveryHarness.Texts(1, 2));

        // 10,000 requests spread over the first 70 % of MinTtl (refresh-ahead starts at 75 % at the earliest).
        var step = TimeSpan.FromTicks((long)(h.Options.MinTtl.Ticks * 0.7 / 10_000));
        for (var i = 0; i < 10_000; i++)
        {
            h.Clock.Advance(step);
            DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(first);
        }

        await h.SettleAsync();
        h.AQueries.Should().Be(1);
        h.Server.QueryCount.Should().Be(1, "no other record type is asked for an A service");
    }

    [Fact]
    public async Task Ttl_0_at_10000_requests_per_second_sees_at_most_one_query_per_MinTtl()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(TimeSpan.Zero, 1);
        var entry = h.Entry();
        var queryTimes = new List<long>();
        var step = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / 10_000);
        var seen = 0;

        // 20 simulated seconds at 10,000 requests per second; the sweeper also runs every simulated second.
        for (var i = 0; i < 200_000; i++)
        {
            h.Clock.Advance(step);
            var get = entry.GetAsync(TestContext.Current.CancellationToken);
            if (!get.IsCompleted)
            {
                await get;
            }

            await DiscoveryHarness.Settle(entry);
            if (h.AQueries != seen)
            {
                (h.AQueries - seen).Should().Be(1);
                seen = h.AQueries;
                queryTimes.Add(h.Clock.GetTimestamp());
            }
        }

        var minGap = (long)(h.Options.MinTtl.Ticks * 0.75);
        queryTimes.Zip(queryTimes.Skip(1), (a, b) => b - a).Should().OnlyContain(gap => gap >= minGap, "refreshes come no sooner than 75 % of MinTtl apart");
        queryTimes.Should().HaveCountLessThanOrEqualTo(1 + (int)(20 / (h.Options.MinTtl.TotalSeconds * 0.75)));
        queryTimes.Should().HaveCountGreaterThanOrEqualTo(4, "the name is still refreshed about every MinTtl");
    }

    [Fact]
    public async Task Ttl_300_is_capped_at_MaxTtl_and_refreshed_before_MaxTtl_ends()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(TimeSpan.FromSeconds(300), 1);
        var entry = h.Entry();

        var set = await entry.GetAsync(TestContext.Current.CancellationToken);

        set.Ttl.Should().Be(h.Options.MaxTtl);
        h.Snapshot().Ttl.Should().Be(TimeSpan.FromSeconds(60));
        h.SetAddresses(TimeSpan.FromSeconds(300), 2);

        await h.AdvanceAsync(TimeSpan.FromSeconds(44)); // 73 % of 60 s: nothing due yet
        h.AQueries.Should().Be(1);
        DiscoveryHarness.Texts(await entry.GetAsync(TestContext.Current.CancellationToken)).Should().Equal(DiscoveryHarness.Texts(1));

        await h.AdvanceAsync(TimeSpan.FromSeconds(11)); // 55 s: past 90 % of MaxTtl, far short of TTL 300
        h.AQueries.Should().Be(2);
        DiscoveryHarness.Texts(await entry.GetAsync(TestContext.Current.CancellationToken)).Should().Equal(DiscoveryHarness.Texts(2), "an answer is kept for MaxTtl, not for its 300 s TTL");
    }

    [Fact]
    public async Task Ttl_between_the_floor_and_the_cap_is_honoured()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(TimeSpan.FromSeconds(20), 1);

        var set = await h.Entry().GetAsync(TestContext.Current.CancellationToken);

        set.Ttl.Should().Be(TimeSpan.FromSeconds(20));
        h.Server.GetQueryCount(DiscoveryHarness.Host, DnsRecordType.A).Should().Be(1);
    }

    [Fact]
    public async Task Floor_and_cap_apply_to_each_record_type_of_an_A_and_AAAA_service()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddAddress("name", DiscoveryHarness.Ip(1), TimeSpan.Zero);
        h.Server.AddAddress("name", System.Net.IPAddress.IPv6Loopback, TimeSpan.Zero);
        var entry = h.Entry(types: DiscoveryRecordTypes.AAndAaaa);

        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 10_000; i++)
        {
            (await entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(set);
        }

        set.Ttl.Should().Be(h.Options.MinTtl);
        set.Endpoints.Select(e => e.Address.Address.ToString()).Should().BeEquivalentTo(["127.0.0.1", "::1"]);
        h.Server.GetQueryCount(DiscoveryHarness.Host, DnsRecordType.A).Should().Be(1);
        h.Server.GetQueryCount(DiscoveryHarness.Host, DnsRecordType.AAAA).Should().Be(1);
    }
}
