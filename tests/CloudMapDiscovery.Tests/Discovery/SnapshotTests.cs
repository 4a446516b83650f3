using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Tests.Discovery;

public sealed class SnapshotTests
{
    [Fact]
    public async Task Snapshot_shows_every_endpoint_with_its_state_and_the_cache_state()
    {
        await using var h = await DiscoveryHarness.StartAsync(o => o.MaxStale = TimeSpan.FromSeconds(100));
        h.SetAddresses(TimeSpan.FromSeconds(20), 1, 2);
        var entry = h.Balancer();
        var fetchedAt = h.Clock.GetUtcNow();
        var set = await entry.GetAsync(TestContext.Current.CancellationToken);
        var one = set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(1)));
        for (var i = 0; i < 4; i++)
        {
            entry.Pick(set, null);
        }

        await h.AdvanceAsync(TimeSpan.FromSeconds(3));
        entry.ReportFailure(one, FailureCause.Connect);

        var s = h.Snapshot();

        s.Host.Should().Be(DiscoveryHarness.Host);
        s.RecordTypes.Should().Be(DiscoveryRecordTypes.A);
        s.Ttl.Should().Be(TimeSpan.FromSeconds(20));
        s.LastRefresh.Should().Be(fetchedAt);
        s.UsableUntil.Should().Be(fetchedAt + TimeSpan.FromSeconds(20));
        s.IsStale.Should().BeFalse();
        s.LastError.Should().BeNull();
        s.NoInstancesReason.Should().BeNull();
        s.Endpoints.Select(e => e.Address).Should().BeEquivalentTo(["127.0.0.1", "127.0.0.2"]);
        s.Endpoints.Should().OnlyContain(e => e.Port == null && !e.Merged && e.RequestsPicked == 2);

        var ejected = s.Endpoints.Single(e => e.Address == "127.0.0.1");
        ejected.State.Should().Be(EndpointState.Ejected);
        ejected.ConsecutiveFailures.Should().Be(1);
        ejected.EjectedUntil.Should().BeCloseTo(h.Clock.GetUtcNow() + h.Options.BaseEjectionTime, TimeSpan.FromSeconds(1));
        var healthy = s.Endpoints.Single(e => e.Address == "127.0.0.2");
        healthy.State.Should().Be(EndpointState.Healthy);
        healthy.ConsecutiveFailures.Should().Be(0);
        healthy.EjectedUntil.Should().BeNull();

        // DNS fails: the snapshot says the set is stale, why, and until when it is still used.
        h.Server.InjectFault(DnsFault.ServFail());
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(19), entry.Service);
        s = h.Snapshot();
        s.IsStale.Should().BeTrue();
        s.LastError.Should().Contain("SERVFAIL").And.Contain(DiscoveryHarness.Host);
        s.LastRefresh.Should().Be(fetchedAt);
        s.UsableUntil.Should().Be(fetchedAt + TimeSpan.FromSeconds(20) + TimeSpan.FromSeconds(100));
        s.Endpoints.Should().HaveCount(2);

        // After the ejection time the endpoint shows healthy again, before anyone picks it.
        h.Snapshot().Endpoints.Single(e => e.Address == "127.0.0.1").State.Should().Be(EndpointState.Healthy);
    }

    [Fact]
    public async Task Snapshot_of_an_srv_service_has_ports_and_of_an_empty_service_the_reason()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddService("api", 1, 1, 3000, "task-a.api", TimeSpan.FromSeconds(10));
        h.Server.AddService("api", 1, 1, 3001, "task-b.api", TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-a.api", DiscoveryHarness.Ip(5), TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-b.api", DiscoveryHarness.Ip(6), TimeSpan.FromSeconds(10));
        await h.Entry("api.internal", DiscoveryRecordTypes.Srv).GetAsync(TestContext.Current.CancellationToken);
        await h.Entry("gone.internal").GetAsync(TestContext.Current.CancellationToken);

        var all = h.Registry.GetSnapshot();

        all.Select(x => x.Host).Should().Equal("api.internal", "gone.internal");
        var api = all[0];
        api.RecordTypes.Should().Be(DiscoveryRecordTypes.Srv);
        api.Endpoints.Select(e => (e.Address, e.Port)).Should().BeEquivalentTo(new[] { ("127.0.0.5", (int?)3000), ("127.0.0.6", (int?)3001) });
        var gone = all[1];
        gone.Endpoints.Should().BeEmpty();
        gone.NoInstancesReason.Should().Contain("NXDOMAIN");
        gone.Ttl.Should().Be(h.Options.NegativeTtlCap);
    }
}
