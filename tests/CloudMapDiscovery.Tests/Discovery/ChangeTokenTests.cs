namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>A resolved service publishes immutable versions of its endpoint set, and says when a new one differs.</summary>
public sealed class ChangeTokenTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_token_fires_when_the_endpoints_change_and_not_on_a_refresh_that_changed_nothing()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1, 2);
        var service = h.Entry();
        var first = await service.GetAsync(TestContext.Current.CancellationToken);
        var token = service.GetChangeToken();
        token.HasChanged.Should().BeFalse();

        await h.RefreshOnceAsync(service, maxSeconds: 30);
        service.Current.Should().NotBeSameAs(first, "every answer is a new version");
        token.HasChanged.Should().BeFalse("the same endpoints came back");

        var fired = 0;
        using var registration = token.RegisterChangeCallback(_ => Interlocked.Increment(ref fired), null);
        h.SetAddresses(Ttl, 1, 2, 3);
        await h.RefreshOnceAsync(service, maxSeconds: 30);

        token.HasChanged.Should().BeTrue();
        fired.Should().Be(1);
        DiscoveryHarness.Texts(service.Current!).Should().Equal(DiscoveryHarness.Texts(1, 2, 3));
        service.GetChangeToken().HasChanged.Should().BeFalse("a new token watches the next version");
    }

    [Fact]
    public async Task The_token_fires_when_the_service_is_evicted_so_watchers_look_it_up_again()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(5));
        h.SetAddresses(Ttl, 1);
        var service = h.Entry();
        await service.GetAsync(TestContext.Current.CancellationToken);
        var token = service.GetChangeToken();

        await h.AdvanceAsync(TimeSpan.FromSeconds(7), alsoWatch: service);

        service.IsRetired.Should().BeTrue();
        token.HasChanged.Should().BeTrue();
    }

    [Fact]
    public async Task A_balancer_follows_a_new_version_and_keeps_the_health_object_of_an_address_that_stays()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1, 2);
        var balancer = h.Balancer();
        var set = await balancer.GetAsync(TestContext.Current.CancellationToken);

        h.SetAddresses(Ttl, 2, 3);
        await h.RefreshOnceAsync(balancer.Service, maxSeconds: 30);

        var current = balancer.Current;
        current.Should().NotBeSameAs(set);
        DiscoveryHarness.Texts(current).Should().Equal(DiscoveryHarness.Texts(2, 3));
        current.Endpoints.Should().Contain(set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(2))), "an address that stays keeps its health object");
    }
}
