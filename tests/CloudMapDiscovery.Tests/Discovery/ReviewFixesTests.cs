using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>Behaviours added after review: a warm name past expiry with its refresh still out, and resolvers that fail in unexpected ways.</summary>
public sealed class ReviewFixesTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

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

    [Fact]
    public async Task An_unexpected_resolver_exception_takes_the_failure_path_with_backoff()
    {
        var clock = new TestClock();
        var resolver = new ThrowingResolver();
        using var registry = new Registries(clock, resolverFactory: _ => resolver);
        var entry = registry.GetCache(new CloudMapDiscoveryOptions()).GetService("name.internal", DiscoveryRecordTypes.A);

        var first = async () => await entry.GetAsync(default);
        (await first.Should().ThrowAsync<ServiceDiscoveryException>()).Which.Message.Should().Contain("name.internal").And.Contain("no sockets left");

        // During the backoff the recorded failure is handed out at once, without asking again.
        for (var i = 0; i < 100; i++)
        {
            var again = async () => await entry.GetAsync(default);
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
