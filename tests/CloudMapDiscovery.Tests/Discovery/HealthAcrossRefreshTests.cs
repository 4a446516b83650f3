using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>Endpoint health lives per address across DNS refreshes (deregistration lags behind a task's death).</summary>
public sealed class HealthAcrossRefreshTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    private static Task<DiscoveryHarness> StartAsync() => DiscoveryHarness.StartAsync(o =>
    {
        o.BaseEjectionTime = TimeSpan.FromSeconds(60);
        o.MaxEjectionTime = TimeSpan.FromSeconds(120);
    });

    [Fact]
    public async Task Ejected_address_that_DNS_still_lists_stays_ejected_after_a_refresh()
    {
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 1, 2, 3);
        var entry = h.Balancer();
        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        var dead = set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        entry.ReportFailure(dead, FailureCause.Connect);
        h.SetAddresses(Ttl, 1, 2, 3, 4);

        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);

        var after = entry.Current;
        after.Should().NotBeSameAs(set);
        after.Endpoints.Should().Contain(dead, "the same endpoint object, with its health, is carried over");
        h.Snapshot().Endpoints.Single(e => e.Address == "127.0.0.1").State.Should().Be(EndpointState.Ejected);
        Enumerable.Range(0, 100).Select(_ => entry.Pick(after, null)).Should().NotContain(dead);
    }

    [Fact]
    public async Task Address_that_leaves_DNS_takes_its_health_with_it_even_while_ejected()
    {
        // After every task stopped and its record was deleted, tasks that came back on the same addresses used to
        // stay ejected from before. An address that leaves DNS is a task that is gone; one that comes back is new
        // (and, where the service has healthy addresses, is probed before its first request).
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 1, 2, 3);
        var entry = h.Balancer();
        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        var dead = set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        entry.ReportFailure(dead, FailureCause.Connect);
        dead.EjectedUntil.Should().NotBe(0);

        h.SetAddresses(Ttl, 2, 3);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);
        DiscoveryHarness.Texts(entry.Current).Should().Equal(DiscoveryHarness.Texts(2, 3));

        h.SetAddresses(Ttl, 1, 2, 3);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);

        var back = entry.Current.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        back.Should().NotBeSameAs(dead);
        back.EjectedUntil.Should().Be(0);
        back.ConsecutiveFailures.Should().Be(0);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Healthy);
    }

    [Fact]
    public async Task No_instances_clears_the_health_of_every_address()
    {
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 1, 2);
        var entry = h.Balancer();
        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        foreach (var e in set.Endpoints)
        {
            entry.ReportFailure(e, FailureCause.Connect);
        }

        h.Server.RemoveAddress("name", DiscoveryHarness.Ip(1));
        h.Server.RemoveAddress("name", DiscoveryHarness.Ip(2));
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);
        entry.Current.Endpoints.Should().BeEmpty();
        entry.Service.Current!.NegativeReason.Should().NotBeNull();

        h.SetAddresses(Ttl, 1, 2);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);

        entry.Current.Endpoints.Should().HaveCount(2).And.OnlyContain(e => e.EjectedUntil == 0 && e.ConsecutiveFailures == 0 && !set.Endpoints.Contains(e));
    }

    [Fact]
    public async Task Healthy_address_that_leaves_DNS_is_forgotten()
    {
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 1, 2);
        var entry = h.Balancer();
        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        var leaver = set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        entry.ReportFailure(leaver, FailureCause.Transport); // one non-connect failure: not ejected
        entry.Pick(set, null);
        entry.Pick(set, null);
        leaver.ConsecutiveFailures.Should().Be(1);
        leaver.Picks.Should().Be(1);

        h.SetAddresses(Ttl, 2);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);
        h.SetAddresses(Ttl, 1, 2);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);

        var back = entry.Current.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        back.Should().NotBeSameAs(leaver);
        back.ConsecutiveFailures.Should().Be(0);
        back.Picks.Should().Be(0);
    }

    [Fact]
    public async Task Ejected_leaver_is_forgotten_once_its_window_has_passed()
    {
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 1, 2);
        var entry = h.Balancer();
        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        var dead = set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        entry.ReportFailure(dead, FailureCause.Connect);
        h.SetAddresses(Ttl, 2);

        await h.AdvanceInUseAsync(DiscoveryHarness.Elapsed(h.Clock, h.Clock.GetTimestamp(), dead.EjectedUntil) + TimeSpan.FromSeconds(1), entry.Service);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);
        h.SetAddresses(Ttl, 1, 2);
        await h.RefreshOnceAsync(entry.Service, maxSeconds: 60);

        var back = entry.Current.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        back.Should().NotBeSameAs(dead);
        back.EjectedUntil.Should().Be(0);
        back.Ejections.Should().Be(0);
    }
}
