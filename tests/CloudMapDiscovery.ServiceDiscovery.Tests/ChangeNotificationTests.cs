using System.Net;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure;
using static CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure.ProviderHarness;

namespace CloudMapDiscovery.ServiceDiscovery.Tests;

/// <summary>
/// When Microsoft.Extensions.ServiceDiscovery is told to resolve again: only when the set of addresses changes (not on
/// a refresh that reorders or re-merges them), and when the name leaves the cache. A name watched through the token is
/// kept in the cache however long nobody asks the provider, and refreshed once per MinTtl. Manual clock throughout.
/// </summary>
public sealed class ChangeNotificationTests
{
    private const string Query = "http://name.internal:3000";

    [Fact]
    public async Task A_reordered_answer_does_not_fire_the_token_and_a_new_address_does()
    {
        await using var h = await StartAsync();
        h.SetAddresses(TimeSpan.Zero, 2, 3);
        var source = await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);

        h.SetAddresses(TimeSpan.Zero, 3, 2);
        await h.AdvanceAsync(TimeSpan.FromSeconds(6)); // TTL 0: refreshed at MinTtl (5 s) plus up to 10 %

        h.AQueries.Should().Be(2);
        h.TryGetEntry(out var entry).Should().BeTrue();
        entry!.Current!.Endpoints.Select(e => e.Address.Address).Should().Equal([Ip(3), Ip(2)], "the cache publishes the new order");
        source.ChangeToken.HasChanged.Should().BeFalse("the same addresses in another order are no change for the consumer");
        (await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken)).Should().BeSameAs(source, "nothing was resolved again");

        h.SetAddresses(TimeSpan.Zero, 3, 2, 4);
        await h.AdvanceAsync(TimeSpan.FromSeconds(6));

        source.ChangeToken.HasChanged.Should().BeTrue();
        Texts(await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken)).Should().Equal("127.0.0.2:3000", "127.0.0.3:3000", "127.0.0.4:3000");
    }

    [Fact]
    public async Task A_multivalue_answer_that_only_moves_an_address_between_answered_and_merged_does_not_fire_the_token()
    {
        await using var h = await StartAsync(o => o.MultiValueAnswerLimit = 2);
        h.SetAddresses(TimeSpan.Zero, 2, 3);
        await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);

        h.SetAddresses(TimeSpan.Zero, 3, 4); // a full answer: 2 is kept by the merge, 4 is new
        await h.AdvanceAsync(TimeSpan.FromSeconds(6));
        var source = await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);
        Texts(source).Should().Equal("127.0.0.2:3000", "127.0.0.3:3000", "127.0.0.4:3000");

        h.SetAddresses(TimeSpan.Zero, 2, 4); // same three: 3 is now the merged one
        await h.AdvanceAsync(TimeSpan.FromSeconds(6));

        h.TryGetEntry(out var entry).Should().BeTrue();
        entry!.Current!.Endpoints.Single(e => e.IsMerged).Address.Address.Should().Be(Ip(3));
        source.ChangeToken.HasChanged.Should().BeFalse();
    }

    [Fact]
    public async Task A_watched_name_stays_cached_and_refreshed_once_per_MinTtl_and_leaves_IdleTimeout_after_its_last_watcher()
    {
        await using var h = await StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(30));
        h.SetAddresses(TimeSpan.Zero, 2, 3);
        var source = await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);
        h.TryGetEntry(out var entry).Should().BeTrue();

        // Two minutes of use through Microsoft.Extensions.ServiceDiscovery's own cache: the provider is not asked once,
        // so the entry sees no request for four times its IdleTimeout.
        await h.AdvanceAsync(TimeSpan.FromSeconds(120), between: async () =>
            (await h.Resolver.GetEndpointsAsync(Query, default)).Should().BeSameAs(source));

        h.TryGetEntry(out var kept).Should().BeTrue();
        kept.Should().BeSameAs(entry, "a watched name is not evicted");
        entry!.IsRetired.Should().BeFalse();
        source.ChangeToken.HasChanged.Should().BeFalse("nothing changed");
        // A refresh is due MinTtl (5 s) plus up to 10 % after the last answer, which lands at the end of the 1 s clock
        // step it was asked in: 5 to 6.5 s apart, so 18 to 24 refreshes in 120 s.
        h.AQueries.Should().BeInRange(1 + 18, 1 + 24, "one query per MinTtl at most, and the name kept fresh");

        // Nobody asks any more: the resolver drops its watcher within 20 s (its 10 s cleanup), which releases the name;
        // IdleTimeout counts from there.
        await h.AdvanceAsync(TimeSpan.FromSeconds(25));
        entry.IsHeld.Should().BeFalse();
        entry.IsRetired.Should().BeFalse("idle for less than IdleTimeout since the release");
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));

        entry.IsRetired.Should().BeTrue();
        source.ChangeToken.HasChanged.Should().BeTrue("a holder of the last token (YARP keeps it) hears that the name left the cache");
        var before = h.AQueries;

        var again = await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);

        Texts(again).Should().Equal(Texts(source));
        h.AQueries.Should().Be(before + 1, "coming back costs the new entry's first query, and only that");
        h.TryGetEntry(out var fresh).Should().BeTrue();
        fresh.Should().NotBeSameAs(entry);
        fresh!.IsHeld.Should().BeTrue();
    }

    [Fact]
    public async Task A_token_handed_out_still_fires_after_its_provider_is_disposed()
    {
        await using var h = await StartAsync();
        h.SetAddresses(TimeSpan.Zero, 2);
        Microsoft.Extensions.ServiceDiscovery.ServiceEndpointQuery.TryParse(Query, out var query).Should().BeTrue();
        h.Factory.TryCreateProvider(query!, out var provider).Should().BeTrue();
        var builder = new TestEndpointBuilder();
        await provider!.PopulateAsync(builder, TestContext.Current.CancellationToken);
        var token = builder.ChangeTokens.Should().ContainSingle().Subject;
        await provider.DisposeAsync();

        h.SetAddresses(TimeSpan.Zero, 2, 3);
        await h.AdvanceAsync(TimeSpan.FromSeconds(6));

        token.HasChanged.Should().BeTrue();
        builder.Endpoints.Select(e => e.EndPoint).Should().Equal(new IPEndPoint(Ip(2), 3000));
    }

    [Fact]
    public async Task A_watcher_whose_callback_throws_does_not_fail_the_refresh_that_told_it()
    {
        await using var h = await StartAsync();
        h.SetAddresses(TimeSpan.Zero, 2);
        var source = await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);
        using var registration = source.ChangeToken.RegisterChangeCallback(_ => throw new InvalidOperationException("a consumer's bug"), null);

        h.SetAddresses(TimeSpan.Zero, 2, 3);
        await h.AdvanceAsync(TimeSpan.FromSeconds(6));

        h.TryGetEntry(out var entry).Should().BeTrue();
        entry!.PendingRefresh!.IsCompletedSuccessfully.Should().BeTrue();
        entry.Current!.Endpoints.Should().HaveCount(2);
        Texts(await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken)).Should().Equal("127.0.0.2:3000", "127.0.0.3:3000");
    }

    [Fact]
    public async Task Providers_of_one_name_share_its_entry_and_its_queries()
    {
        await using var h = await StartAsync();
        h.SetAddresses(TimeSpan.Zero, 2);

        var sources = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            h.Resolver.GetEndpointsAsync(i % 2 == 0 ? Query : "name.internal:3000", default).AsTask()));
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));

        sources.Should().AllSatisfy(s => Texts(s).Should().Equal("127.0.0.2:3000"));
        h.Registry.Caches.Single().Count.Should().Be(1);
        h.AQueries.Should().BeInRange(1 + 4, 1 + 6, "two watchers, one entry: one query per MinTtl (5 to 6.5 s apart, see above)");
    }
}
