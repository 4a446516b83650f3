using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>Versions of an endpoint set grow only when the set changes, and reach consumers in order, before requests see them.</summary>
public sealed class VersionTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_token_does_not_fire_and_the_version_stays_when_DNS_only_reorders_the_set()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1, 2, 3);
        var service = h.Entry();
        var first = await service.GetAsync(TestContext.Current.CancellationToken);
        var token = service.GetChangeToken();

        h.SetAddresses(Ttl, 3, 1, 2); // Route 53 shuffles every MULTIVALUE answer
        await h.RefreshOnceAsync(service, maxSeconds: 30);

        token.HasChanged.Should().BeFalse("the same endpoints came back in another order");
        service.Current!.Version.Should().Be(first.Version);
        DiscoveryHarness.Texts(service.Current).Should().Equal(DiscoveryHarness.Texts(first));
        service.Current.Should().NotBeSameAs(first, "the new answer still brings its own time and TTL");
    }

    [Fact]
    public async Task Listeners_hear_each_new_version_once_in_order_and_a_late_one_starts_from_the_latest()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var service = h.Entry();
        await service.GetAsync(TestContext.Current.CancellationToken);
        var heard = new List<long>();
        using var subscription = service.Subscribe(v => heard.Add(v.Version));

        h.SetAddresses(Ttl, 1, 2);
        await h.RefreshOnceAsync(service, maxSeconds: 30);
        await h.RefreshOnceAsync(service, maxSeconds: 30); // nothing changed
        h.SetAddresses(Ttl, 2);
        await h.RefreshOnceAsync(service, maxSeconds: 30);

        heard.Should().Equal([1, 2, 3], "the current version at once, then each change, and not the refresh that changed nothing");
        var late = new List<long>();
        using var second = service.Subscribe(v => late.Add(v.Version));
        late.Should().Equal(3);
    }

    [Fact]
    public async Task A_balancer_follows_each_version_forward_and_reading_it_changes_nothing()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1, 2);
        var balancer = h.Balancer();
        var before = await balancer.GetAsync(TestContext.Current.CancellationToken);
        before.Version.Should().Be(1);

        h.SetAddresses(Ttl, 2, 3);
        await h.RefreshOnceAsync(balancer.Service, maxSeconds: 30);

        var current = balancer.Current;
        current.Version.Should().Be(balancer.Service.Current!.Version).And.Be(2);
        DiscoveryHarness.Texts(current).Should().Equal(DiscoveryHarness.Texts(2, 3));

        // A request still holding the older set picks from it and reports on it; nothing takes the balancer back.
        var stale = balancer.Pick(before, null)!;
        balancer.ReportSuccess(stale);
        _ = h.Snapshot();
        balancer.Current.Should().BeSameAs(current, "reads and reports on an older set change nothing");
        (await balancer.GetAsync(TestContext.Current.CancellationToken)).Should().BeSameAs(current);
        current.Endpoints.Should().Contain(before.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(2))), "the address that stayed kept its health object");
    }
}
