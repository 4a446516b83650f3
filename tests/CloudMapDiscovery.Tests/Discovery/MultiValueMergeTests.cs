using CloudMapDiscovery.Balancing;
using System.Net;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>Route 53 MULTIVALUE answers with a random 8 of N records; the cache merges what it saw across refreshes.</summary>
public sealed class MultiValueMergeTests
{
    private static readonly int[] Twelve = [.. Enumerable.Range(1, 12)];

    private static async Task<DiscoveryHarness> StartAsync(Action<CloudMapDiscoveryOptions>? configure = null)
    {
        var h = await DiscoveryHarness.StartAsync(configure);
        h.Server.MaxAnswerRecords = 8;
        h.SetAddresses(TimeSpan.Zero, Twelve); // TTL 0: refreshed every MinTtl (5 s)
        return h;
    }

    [Fact]
    public async Task Set_grows_beyond_8_across_refreshes_and_merged_endpoints_are_flagged()
    {
        await using var h = await StartAsync();
        var entry = h.Entry();
        var first = await entry.GetAsync(TestContext.Current.CancellationToken);
        first.Endpoints.Should().HaveCount(8);
        first.Endpoints.Should().OnlyContain(e => !e.IsMerged);

        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(25), entry);

        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        h.AQueries.Should().BeGreaterThanOrEqualTo(5);
        set.Endpoints.Should().HaveCountGreaterThan(8).And.HaveCountLessThanOrEqualTo(12);
        DiscoveryHarness.Texts(set).Should().BeSubsetOf(DiscoveryHarness.Texts(Twelve));
        set.Endpoints.Select(e => e.Address).Should().OnlyHaveUniqueItems();
        var snapshot = h.Snapshot();
        snapshot.Endpoints.Count(e => !e.Merged).Should().Be(8, "the latest answer holds 8 records");
        snapshot.Endpoints.Count(e => e.Merged).Should().Be(set.Endpoints.Length - 8);
    }

    [Fact]
    public async Task With_A_and_AAAA_each_answer_is_merged_on_its_own()
    {
        await using var h = await StartAsync(); // 12 A records, answered 8 at a time
        var v6 = new[] { IPAddress.Parse("::ffff:127.0.0.100"), IPAddress.Parse("::ffff:127.0.0.101") };
        h.Server.SetAddresses("name", TimeSpan.Zero, [.. Twelve.Select(DiscoveryHarness.Ip), .. v6]);
        var entry = h.Entry(types: DiscoveryRecordTypes.AAndAaaa);
        await entry.GetAsync(TestContext.Current.CancellationToken);

        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(25), entry);

        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        V4(set).Should().HaveCountGreaterThan(8, "the A answer of 8 is merged across refreshes although A and AAAA together are 10")
            .And.BeSubsetOf(DiscoveryHarness.Texts(Twelve));
        V6(set).Should().BeEquivalentTo(["::ffff:127.0.0.100", "::ffff:127.0.0.101"]);

        // The AAAA answer shrinks: being short of 8, it replaces the AAAA part while the A part stays merged.
        h.Server.RemoveAddress("name", v6[1]).Should().BeTrue();
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(6), entry);

        set = await entry.GetAsync(TestContext.Current.CancellationToken);
        V6(set).Should().Equal("::ffff:127.0.0.100");
        V4(set).Should().HaveCountGreaterThan(8);

        static string[] V4(EndpointSet set) => [.. DiscoveryHarness.Texts(set).Where(a => !a.Contains(':', StringComparison.Ordinal))];

        static string[] V6(EndpointSet set) => [.. DiscoveryHarness.Texts(set).Where(a => a.Contains(':', StringComparison.Ordinal))];
    }

    [Fact]
    public async Task Merged_endpoint_that_fails_once_is_dropped_while_one_that_did_not_fail_is_kept()
    {
        await using var h = await StartAsync(o => o.MultiValueRetention = TimeSpan.FromSeconds(60));
        var entry = h.Balancer();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(25), entry.Service);
        var grown = entry.Current;
        grown.Endpoints.Should().HaveCountGreaterThan(8);

        // Two endpoints leave DNS (10 remain, still answered 8 at a time): from now on only the merge keeps them.
        var failing = grown.Endpoints[0];
        var healthy = grown.Endpoints[1];
        h.Server.RemoveAddress("name", failing.Address.Address);
        h.Server.RemoveAddress("name", healthy.Address.Address);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 120);
        entry.Current.Endpoints.Should().Contain([failing, healthy]);
        failing.IsMerged.Should().BeTrue();
        healthy.IsMerged.Should().BeTrue();

        // Not even ejected (a non-connect failure, threshold 3), yet DNS no longer vouches for it.
        entry.ReportFailure(failing, FailureCause.Transport);
        failing.EjectedUntil.Should().Be(0);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 120);

        entry.Current.Endpoints.Should().NotContain(failing);
        entry.Current.Endpoints.Should().Contain(healthy);
        h.Snapshot().Endpoints.Should().NotContain(e => e.Address == failing.Address.Address.ToString());
    }

    [Fact]
    public async Task Merged_endpoints_expire_after_MultiValueRetention()
    {
        await using var h = await StartAsync(o => o.MultiValueRetention = TimeSpan.FromSeconds(60));
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(25), entry);
        var grown = DiscoveryHarness.Texts(entry.Current!);
        grown.Should().HaveCountGreaterThan(8);

        // The service shrinks to exactly 8 (each answer still "full"): the other 4 live on only through the merge.
        int[] remaining = [1, 2, 3, 4, 5, 6, 7, 8];
        h.SetAddresses(TimeSpan.Zero, remaining);
        var removedAt = h.Clock.GetTimestamp();
        await h.RefreshOnceAsync(entry, maxSeconds: 120);

        // Everything seen so far, plus this answer (which may hold one of the 8 that no earlier random subset showed).
        var expected = grown.Union(DiscoveryHarness.Texts(remaining)).Order(StringComparer.Ordinal).ToArray();
        DiscoveryHarness.Texts(entry.Current!).Should().Equal(expected, "every address seen within the last 60 s is kept");

        // Retention is counted from when each was last seen, which is no later than the shrink.
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(60) - DiscoveryHarness.Elapsed(h.Clock, removedAt, h.Clock.GetTimestamp()), entry);
        await h.RefreshOnceAsync(entry, maxSeconds: 120);

        DiscoveryHarness.Texts(entry.Current!).Should().Equal(DiscoveryHarness.Texts(remaining));
        entry.Current!.Endpoints.Should().OnlyContain(e => !e.IsMerged);
    }

    [Fact]
    public async Task Answer_with_fewer_records_than_the_limit_replaces_the_set()
    {
        await using var h = await StartAsync();
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(25), entry);
        entry.Current!.Endpoints.Should().HaveCountGreaterThan(8);

        h.SetAddresses(TimeSpan.Zero, 3, 5, 11);
        await h.RefreshOnceAsync(entry, maxSeconds: 120);

        DiscoveryHarness.Texts(entry.Current!).Should().Equal(DiscoveryHarness.Texts(3, 5, 11), "an answer below the limit is complete");
    }

    [Fact]
    public async Task With_merge_off_the_set_never_exceeds_the_8_records_of_an_answer()
    {
        await using var h = await StartAsync(o => o.MergeMultiValueAnswers = false);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        var sizes = new List<int>();
        var seen = new HashSet<string>();
        for (var i = 0; i < 8; i++)
        {
            await h.RefreshOnceAsync(entry, maxSeconds: 120);
            sizes.Add(entry.Current!.Endpoints.Length);
            seen.UnionWith(DiscoveryHarness.Texts(entry.Current!));
        }

        sizes.Should().OnlyContain(n => n == 8);
        seen.Should().HaveCountGreaterThan(8, "the server did answer different subsets, so merging would have grown the set");
    }
}
