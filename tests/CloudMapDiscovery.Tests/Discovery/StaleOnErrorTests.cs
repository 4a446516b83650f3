using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

public sealed class StaleOnErrorTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxStale = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ServFail_keeps_serving_the_last_good_set_with_backoff_until_MaxStale_then_fails_naming_host_and_error()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.MaxStale = MaxStale);
        h.SetAddresses(Ttl, 1, 2);
        var entry = h.Entry();
        var good = await entry.GetAsync(TestContext.Current.CancellationToken);
        h.Server.InjectFault(DnsFault.ServFail());

        // 100 requests per simulated second for TTL + MaxStale - 1 s: every one is served the last good set at once.
        var requests = 0;
        for (var i = 0; i < (Ttl + MaxStale).TotalSeconds * 100 - 100; i++)
        {
            h.Clock.Advance(TimeSpan.FromMilliseconds(10));
            DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(good);
            requests++;
            await DiscoveryHarness.Settle(entry);
        }

        var snapshot = h.Snapshot();
        snapshot.IsStale.Should().BeTrue();
        snapshot.LastError.Should().Contain("SERVFAIL");
        snapshot.Endpoints.Should().HaveCount(2);

        // Retries back off (1, 2, 4, 8, 16, 30 s with jitter): a handful of queries for ~7,000 requests.
        var failedQueries = h.AQueries - 1;
        failedQueries.Should().BeInRange(5, 8);
        requests.Should().BeGreaterThan(6_000);

        // Past expiry + MaxStale the last good set is no longer trusted.
        await h.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        var act = async () => await entry.GetAsync(TestContext.Current.CancellationToken);
        var error = (await act.Should().ThrowAsync<ServiceDiscoveryException>()).Which;
        error.Host.Should().Be(DiscoveryHarness.Host);
        error.Message.Should().Contain(DiscoveryHarness.Host).And.Contain("SERVFAIL");
        error.NoInstances.Should().BeFalse();
        h.Snapshot().IsStale.Should().BeFalse();
        h.Snapshot().Endpoints.Should().BeEmpty();
    }

    [Fact]
    public async Task Every_request_served_from_a_stale_answer_is_counted_as_stale()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        h.Server.InjectFault(DnsFault.ServFail());
        await h.AdvanceInUseAsync(Ttl + TimeSpan.FromSeconds(1), entry);
        h.Snapshot().IsStale.Should().BeTrue();

        var results = new List<string>();
        using var listener = InstrumentListener.Start(h.Registry.Metrics.Meter, "cloudmap.cache.lookups", (_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "cloudmap.cache.result")
                {
                    results.Add((string)tag.Value!);
                }
            }
        });

        // Between retries (inside the backoff) and at a retry alike.
        for (var i = 0; i < 100; i++)
        {
            DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken));
            h.Clock.Advance(TimeSpan.FromMilliseconds(100));
            await h.SettleAsync();
        }

        results.Should().HaveCount(100).And.OnlyContain(r => r == "stale");
    }

    [Fact]
    public async Task Stopped_server_is_ridden_out_on_the_stale_set_and_recovery_is_picked_up_by_the_next_retry()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        var good = await entry.GetAsync(TestContext.Current.CancellationToken);
        await h.Server.StopAsync();

        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(30), entry);

        DiscoveryHarness.Sync(entry.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(good);
        h.Snapshot().IsStale.Should().BeTrue();
        h.Snapshot().LastError.Should().Contain("refused");

        h.SetAddresses(Ttl, 1, 4);
        await h.Server.RestartAsync();
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(40), entry); // longer than the longest backoff (30 s + 20 %)
        await DiscoveryHarness.Settle(entry);

        h.Snapshot().IsStale.Should().BeFalse();
        h.Snapshot().LastError.Should().BeNull();
        DiscoveryHarness.Texts(await entry.GetAsync(TestContext.Current.CancellationToken)).Should().Equal(DiscoveryHarness.Texts(1, 4));
    }

    [Fact]
    public async Task After_MaxStale_ran_out_a_request_past_the_backoff_recovers_when_DNS_is_back()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.MaxStale = TimeSpan.Zero);
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();
        await entry.GetAsync(TestContext.Current.CancellationToken);
        h.Server.InjectFault(DnsFault.ServFail());

        await h.AdvanceAsync(Ttl);
        var failing = async () => await entry.GetAsync(TestContext.Current.CancellationToken);
        await failing.Should().ThrowAsync<ServiceDiscoveryException>();
        var queries = h.AQueries;

        h.Server.ClearFaults();
        await failing.Should().ThrowAsync<ServiceDiscoveryException>("within the backoff the failure is reported without a new query");
        h.AQueries.Should().Be(queries);

        await h.AdvanceAsync(TimeSpan.FromSeconds(40));
        DiscoveryHarness.Texts(await entry.GetAsync(TestContext.Current.CancellationToken)).Should().Equal(DiscoveryHarness.Texts(1));
        h.Snapshot().LastError.Should().BeNull();
    }

    [Fact]
    public async Task Cold_name_with_no_server_fails_fast_naming_the_host_and_the_cause()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        await h.Server.StopAsync();
        var entry = h.Entry();

        // The DNS timeout runs on the harness's manual clock, which this test never moves: it cannot fire, so a failure at
        // all (within the real-time guard against a hang) is the refusal's. A refused connection is not a timeout.
        var act = async () => await entry.GetAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var error = (await act.Should().ThrowAsync<ServiceDiscoveryException>("a refused connection is not a timeout")).Which;

        error.Message.Should().Contain(DiscoveryHarness.Host).And.Contain("connection refused");
        error.InnerException.Should().BeOfType<CloudMapDiscovery.Dns.DnsResolutionException>();
    }

    [Fact]
    public async Task Cold_failure_is_handed_to_a_burst_of_requests_without_querying_until_the_backoff_ends()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        h.Server.InjectFault(DnsFault.ServFail());
        var entry = h.Entry();

        var first = async () => await entry.GetAsync(TestContext.Current.CancellationToken);
        await first.Should().ThrowAsync<ServiceDiscoveryException>();
        h.AQueries.Should().Be(1);

        for (var i = 0; i < 1_000; i++)
        {
            var get = entry.GetAsync(TestContext.Current.CancellationToken);
            get.IsCompleted.Should().BeTrue("a known failure is reported at once, not after a DNS round trip");
            get.IsFaulted.Should().BeTrue();
            get.AsTask().Exception!.InnerException.Should().BeOfType<ServiceDiscoveryException>().Which.Message.Should().Contain("SERVFAIL");
        }

        h.AQueries.Should().Be(1);

        // The first backoff is 1 s +- 20 %; past it the next request asks again, and fails again, and the burst
        // after that is again answered from the recorded failure.
        await h.AdvanceAsync(TimeSpan.FromSeconds(1.3));
        await first.Should().ThrowAsync<ServiceDiscoveryException>();
        h.AQueries.Should().Be(2);
        for (var i = 0; i < 100; i++)
        {
            await first.Should().ThrowAsync<ServiceDiscoveryException>();
        }

        h.AQueries.Should().Be(2);

        h.Server.ClearFaults();
        await h.AdvanceAsync(TimeSpan.FromSeconds(2.5)); // second backoff: 2 s +- 20 %
        DiscoveryHarness.Texts(await entry.GetAsync(TestContext.Current.CancellationToken)).Should().Equal(DiscoveryHarness.Texts(1));
        h.AQueries.Should().Be(3);
    }

    [Fact]
    public async Task An_unexpected_resolver_exception_takes_the_failure_path_with_backoff()
    {
        var clock = new TestClock();
        var resolver = new ThrowingResolver();
        using var registry = new Registries(clock, resolverFactory: _ => resolver);
        var entry = registry.GetCache(new CloudMapDiscoveryOptions()).GetService("name.internal", DiscoveryRecordTypes.A);

        var first = async () => await entry.GetAsync(TestContext.Current.CancellationToken);
        (await first.Should().ThrowAsync<ServiceDiscoveryException>()).Which.Message.Should().Contain("name.internal").And.Contain("no sockets left");

        // During the backoff the recorded failure is handed out at once, without asking again.
        for (var i = 0; i < 100; i++)
        {
            var again = async () => await entry.GetAsync(TestContext.Current.CancellationToken);
            await again.Should().ThrowAsync<ServiceDiscoveryException>();
        }

        resolver.Calls.Should().Be(1);
        registry.GetSnapshot().Single().LastError.Should().Contain("no sockets left");
    }

    private sealed class ThrowingResolver : IDnsResolver
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public ValueTask<DnsQueryResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            throw new System.Net.Sockets.SocketException(24, "no sockets left");
        }
    }
}
