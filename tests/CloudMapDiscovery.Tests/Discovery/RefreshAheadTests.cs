using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

public sealed class RefreshAheadTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Refresh_is_scheduled_between_75_and_90_percent_of_the_ttl_with_jitter()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        var offsets = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var host = $"svc{i}.internal";
            h.Server.AddAddress(host, DiscoveryHarness.Ip(i + 1), Ttl);
            var entry = h.Entry(host);
            var set = await entry.GetAsync(TestContext.Current.CancellationToken);
            offsets.Add((EntryHooks.RefreshAt(entry) - set.FetchedAt) / (double)(Ttl.TotalSeconds * h.Clock.TimestampFrequency));
        }

        offsets.Should().OnlyContain(f => f >= 0.75 && f <= 0.90);
        offsets.Distinct().Should().HaveCountGreaterThan(1, "clients that fetched together must not all refresh in the same instant");
    }

    [Fact]
    public async Task Warm_request_past_the_refresh_point_returns_the_cached_set_at_once_and_starts_exactly_one_background_refresh()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        var old = await entry.GetAsync(TestContext.Current.CancellationToken);
        var refreshAt = EntryHooks.RefreshAt(entry);
        h.SetAddresses(Ttl, 2);

        // Up to one tick before the refresh point nothing is asked, neither by requests nor by the sweeper.
        await h.AdvanceAsync(DiscoveryHarness.Elapsed(h.Clock, h.Clock.GetTimestamp(), refreshAt - 1));
        (await entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(old);
        h.AQueries.Should().Be(1);

        // Past it, with DNS holding its answer back, every request still gets the cached set synchronously.
        h.HoldAnswers();
        h.Clock.Advance(TimeSpan.FromTicks(2));
        var served = Enumerable.Range(0, 1_000).Select(_ => DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken))).ToList();

        served.Should().OnlyContain(s => ReferenceEquals(s, old), "once a name is warm no request waits for DNS");
        var refresh = entry.PendingRefresh;
        refresh.Should().NotBeNull();
        refresh!.IsCompleted.Should().BeFalse();

        await h.ReleaseAnswersAsync(held: 1);
        await DiscoveryHarness.Settle(entry);

        h.AQueries.Should().Be(2, "1,000 requests past the refresh point start one refresh");
        var fresh = DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));
        DiscoveryHarness.Texts(fresh).Should().Equal(DiscoveryHarness.Texts(2));
        h.AQueries.Should().Be(2);
    }

    [Fact]
    public async Task Request_that_saw_the_answer_due_just_before_another_refresh_completed_does_not_refresh_again()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);

        // A request at the refresh point starts the refresh; its answer is held for now.
        h.HoldAnswers();
        h.Clock.Advance(DiscoveryHarness.Elapsed(h.Clock, h.Clock.GetTimestamp(), EntryHooks.RefreshAt(entry)));
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));

        // The cache counts the lookup after a request found the answer due and before it starts the refresh; the
        // listener parks one request (on its own thread) right there.
        var lateThread = -1;
        var parked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var resume = new ManualResetEventSlim();
        using var listener = InstrumentListener.Start(h.Registry.Metrics.Meter, "cloudmap.cache.lookups", (_, _, _, _) =>
        {
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref lateThread) && parked.TrySetResult())
            {
                resume.Wait(TimeSpan.FromSeconds(10));
            }
        });

        var late = Task.Run(() =>
        {
            Volatile.Write(ref lateThread, Environment.CurrentManagedThreadId);
            return entry.GetAsync(TestContext.Current.CancellationToken).AsTask();
        });
        await parked.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // Meanwhile the sweeper's refresh completes.
        await h.ReleaseAnswersAsync(held: 1);
        await DiscoveryHarness.Settle(entry);
        h.AQueries.Should().Be(2);

        resume.Set();
        await late.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await DiscoveryHarness.Settle(entry);

        h.AQueries.Should().Be(2, "the answer the late request saw due has just been refreshed");
    }

    [Fact]
    public async Task Sweeper_refreshes_a_name_in_use_without_waiting_for_a_request()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        h.SetAddresses(Ttl, 3);

        // One request after the answer; none from here on. The 1 s timer fires inside Advance.
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));
        await h.AdvanceAsync(TimeSpan.FromSeconds(8.5));

        h.AQueries.Should().Be(2);
        DiscoveryHarness.Texts(entry.Current!).Should().Equal(DiscoveryHarness.Texts(3));
        entry.Current!.FetchedAt.Should().BeLessThan(h.Clock.GetTimestamp());

        // Keeps doing so while requests use it, so the answer never expires under its users.
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(30), entry);
        h.AQueries.Should().Be(5, "the sweeper refreshes once every 8 to 10 s");
        (h.Clock.GetTimestamp() - entry.Current!.FetchedAt).Should().BeLessThan((long)(Ttl.TotalSeconds * h.Clock.TimestampFrequency));

        // Unused from here on: refreshed for two TTLs at most, then no more.
        var queries = h.AQueries;
        await h.AdvanceAsync(TimeSpan.FromSeconds(60));
        h.AQueries.Should().BeLessThanOrEqualTo(queries + 3, "a name nobody uses is not kept warm");
    }

    [Fact]
    public async Task A_request_past_the_refresh_point_starts_the_refresh_and_the_sweeper_refreshes_only_names_due_and_in_use()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddAddress("due.internal", DiscoveryHarness.Ip(1), TimeSpan.FromSeconds(5));
        h.Server.AddAddress("later.internal", DiscoveryHarness.Ip(2), TimeSpan.FromSeconds(60));
        var cold = h.Entry("cold.internal"); // starts the 1 s timer
        await h.AdvanceAsync(TimeSpan.FromSeconds(0.5)); // so the refresh point (3.75 s to 4.5 s) falls between two timer ticks
        var due = h.Entry("due.internal");
        var later = h.Entry("later.internal");
        await due.GetAsync(TestContext.Current.CancellationToken);
        await later.GetAsync(TestContext.Current.CancellationToken);
        var refreshAt = EntryHooks.RefreshAt(due);

        await h.AdvanceInUseAsync(DiscoveryHarness.Elapsed(h.Clock, h.Clock.GetTimestamp(), refreshAt - 1), due, later);
        h.Server.GetQueryCount("due.internal").Should().Be(1, "one clock tick before the refresh point");

        // A request at the refresh point reads the (coarse) clock, sees the answer due and starts the refresh itself,
        // whatever the sweeper's next tick.
        h.Clock.Advance(TimeSpan.FromTicks(1));
        DiscoveryHarness.Sync(due.GetAsync(TestContext.Current.CancellationToken));
        await h.SettleAsync();
        h.Server.GetQueryCount("due.internal").Should().Be(2, "the request found the answer due");

        h.Cache.Sweep();
        await h.SettleAsync();

        h.Server.GetQueryCount("due.internal").Should().Be(2, "the fresh answer is not due again");
        h.Server.GetQueryCount("later.internal").Should().Be(1);
        h.Server.GetQueryCount("cold.internal").Should().Be(0, "a name nobody resolved yet is not resolved by the sweeper");
        cold.Current.Should().BeNull();
    }

    [Fact]
    public async Task Past_expiry_with_the_refresh_still_out_requests_get_the_last_answer_without_waiting()
    {
        // The DNS timeout runs on the same manual clock: keep it beyond every move below, so the held query is
        // still out (not timed out) when the answer expires.
        await using var h = await DiscoveryHarness.StartAsync(o => o.DnsTimeout = TimeSpan.FromSeconds(50));
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        var old = await entry.GetAsync(TestContext.Current.CancellationToken);
        h.SetAddresses(Ttl, 2);

        // The refresh-ahead query goes out and its answer is held (a lost datagram waiting out the DNS timeout) ...
        h.HoldAnswers();
        h.Clock.Advance(DiscoveryHarness.Elapsed(h.Clock, h.Clock.GetTimestamp(), EntryHooks.RefreshAt(entry)));
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(old);

        // ... past the TTL, requests still do not wait on it.
        h.Clock.Advance(Ttl);
        entry.PendingRefresh!.IsCompleted.Should().BeFalse();
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(old);

        await h.ReleaseAnswersAsync(held: 1);
        await DiscoveryHarness.Settle(entry);
        DiscoveryHarness.Texts(DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken))).Should().Equal(DiscoveryHarness.Texts(2));
    }
}
