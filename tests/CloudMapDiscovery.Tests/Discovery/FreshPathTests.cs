using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>
/// The per-request path while an answer is fresh costs one coarse clock read: a request past the refresh point
/// starts the refresh itself, and the time of last use (for idle eviction) is written at most a few times a second.
/// </summary>
public sealed class FreshPathTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_fresh_answer_is_served_on_one_clock_read_and_the_refresh_point_still_holds()
    {
        var clock = new CountingClock();
        var serverClock = new TestClock();
        await using var dns = await DnsTestServer.StartAsync(new DnsTestServerOptions { Zone = "internal", TimeProvider = serverClock }, TestContext.Current.CancellationToken);
        dns.SetAddresses("name", Ttl, DiscoveryHarness.Ips(1, 2));
        using var registry = new Registries(clock);
        var options = new CloudMapDiscoveryOptions { DnsAttempts = 1 };
        options.NameServers.Add(dns.EndPoint.ToString());
        var entry = registry.GetCache(options).GetService(DiscoveryHarness.Host, DiscoveryRecordTypes.A);
        var first = await entry.GetAsync(TestContext.Current.CancellationToken);

        // On a clock other than the system's, the coarse reading is the clock's own timestamp: one read a request.
        var reads = clock.Reads;
        for (var i = 0; i < 1_000; i++)
        {
            DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(first);
        }

        clock.Reads.Should().Be(reads + 1_000, "a fresh answer costs one (coarse) clock read and nothing else");

        // One tick before the refresh point the answer stays as it is; at the refresh point the next request sees it
        // due and starts the refresh, whose answer DNS holds, and is still served at once.
        dns.SetAddresses("name", Ttl, DiscoveryHarness.Ips(3));
        dns.InjectFault(DnsFault.Delay(TimeSpan.FromSeconds(1)));
        var refreshAt = EntryHooks.RefreshAt(entry);
        var initial = entry.PendingRefresh;
        clock.Inner.Advance(DiscoveryHarness.Elapsed(clock.Inner, clock.Inner.GetTimestamp(), refreshAt - 1));
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(first);
        entry.PendingRefresh.Should().BeSameAs(initial, "nothing is due before the refresh point");
        clock.Inner.Advance(TimeSpan.FromTicks(1));
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(first);
        entry.PendingRefresh.Should().NotBeSameAs(initial, "the first request at the refresh point starts the refresh");

        await Poll.UntilAsync(() => serverClock.ActiveTimers >= 1, "the held DNS answer");
        dns.ClearFaults();
        serverClock.Advance(TimeSpan.FromSeconds(1));
        await DiscoveryHarness.Settle(entry);
        dns.GetQueryCount("name.internal").Should().Be(2);

        var refreshed = DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));
        DiscoveryHarness.Texts(refreshed).Should().Equal(DiscoveryHarness.Texts(3));
        reads = clock.Reads;
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));
        clock.Reads.Should().Be(reads + 1, "the new answer is fresh again");
    }

    [Fact]
    public async Task An_answer_due_before_the_sweepers_next_tick_is_refreshed_by_the_first_request_past_it()
    {
        // A 200 ms TTL (MinTtl and MaxTtl both 200 ms) is due at 150-180 ms, long before the sweeper's first 1 s tick.
        await using var h = await DiscoveryHarness.StartAsync(o => (o.MinTtl, o.MaxTtl) = (TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(200)));
        h.SetAddresses(TimeSpan.FromSeconds(60), 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        var initial = entry.PendingRefresh;

        h.Clock.Advance(TimeSpan.FromMilliseconds(190));
        entry.PendingRefresh.Should().BeSameAs(initial, "no sweep has run yet");
        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));

        entry.PendingRefresh.Should().NotBeSameAs(initial, "the request found the answer due");
        await DiscoveryHarness.Settle(entry);
        h.AQueries.Should().Be(2);
    }

    [Fact]
    public async Task A_name_used_only_while_fresh_is_kept_and_evicted_IdleTimeout_after_its_last_use()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(30));
        h.SetAddresses(TimeSpan.FromSeconds(60), 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);

        // Used at 10 s, 20 s and 29.5 s, each time on the fresh path (no clock read, the answer lasts 45 s or more).
        foreach (var step in new[] { 10, 10, 9.5 })
        {
            await h.AdvanceAsync(TimeSpan.FromSeconds(step), step: TimeSpan.FromSeconds(0.5));
            DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));
        }

        // The sweep at 30 s records the use at 29.5 s; the name is not idle until 30 s after that sweep.
        await h.AdvanceAsync(TimeSpan.FromSeconds(29.5), step: TimeSpan.FromSeconds(0.5));
        h.Cache.TryGetService(DiscoveryHarness.Host, DiscoveryRecordTypes.A, out _).Should().BeTrue("last used 29.5 s ago");
        entry.IsRetired.Should().BeFalse();

        await h.AdvanceAsync(TimeSpan.FromSeconds(1.5), step: TimeSpan.FromSeconds(0.5), alsoWatch: entry);
        h.Cache.TryGetService(DiscoveryHarness.Host, DiscoveryRecordTypes.A, out _).Should().BeFalse("unused for IdleTimeout, give or take one sweep");
        entry.IsRetired.Should().BeTrue("a handler that remembers the entry must see that it is gone");
    }

    /// <summary>A manual clock that counts how often the code under test reads it.</summary>
    private sealed class CountingClock : TimeProvider
    {
        private int _reads;

        public TestClock Inner { get; } = new();

        public int Reads => Volatile.Read(ref _reads);

        public override long TimestampFrequency => Inner.TimestampFrequency;

        public override long GetTimestamp()
        {
            Interlocked.Increment(ref _reads);
            return Inner.GetTimestamp();
        }

        public override DateTimeOffset GetUtcNow() => Inner.GetUtcNow();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => Inner.CreateTimer(callback, state, dueTime, period);
    }
}
