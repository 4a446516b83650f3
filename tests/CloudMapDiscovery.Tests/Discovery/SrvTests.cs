using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>Endpoints from SRV records (ECS bridge and host networking: the port comes from DNS).</summary>
public sealed class SrvTests
{
    [Fact]
    public async Task Srv_endpoints_carry_the_port_from_dns()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddService("name", 1, 1, 32768, "task-a.name", TimeSpan.FromSeconds(10));
        h.Server.AddService("name", 1, 1, 32769, "task-b.name", TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-a.name", DiscoveryHarness.Ip(2), TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-b.name", DiscoveryHarness.Ip(3), TimeSpan.FromSeconds(10));

        var set = await h.Entry(types: DiscoveryRecordTypes.Srv).GetAsync(CancellationToken.None);

        set.Endpoints.Select(e => $"{e.Address.Address}:{e.Address.Port}").Should().BeEquivalentTo("127.0.0.2:32768", "127.0.0.3:32769");
    }

    [Fact]
    public async Task Only_the_lowest_priority_with_addresses_is_used()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddService("name", 2, 1, 4000, "backup.name", TimeSpan.FromSeconds(10));
        h.Server.AddService("name", 1, 1, 3000, "primary.name", TimeSpan.FromSeconds(10));
        h.Server.AddService("name", 0, 1, 5000, "gone.name", TimeSpan.FromSeconds(10)); // no address: cannot be called
        h.Server.AddAddress("backup.name", DiscoveryHarness.Ip(4), TimeSpan.FromSeconds(10));
        h.Server.AddAddress("primary.name", DiscoveryHarness.Ip(2), TimeSpan.FromSeconds(10));

        var set = await h.Entry(types: DiscoveryRecordTypes.Srv).GetAsync(CancellationToken.None);

        set.Endpoints.Select(e => $"{e.Address.Address}:{e.Address.Port}").Should().Equal("127.0.0.2:3000");
    }

    [Fact]
    public async Task When_every_target_lookup_fails_the_last_good_answer_and_its_health_stay()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.IncludeServiceTargetAddresses = false; // each target is asked for on its own
        h.Server.AddService("name", 1, 1, 3000, "task-a.name", TimeSpan.FromSeconds(10));
        h.Server.AddService("name", 1, 1, 3000, "task-b.name", TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-a.name", DiscoveryHarness.Ip(2), TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-b.name", DiscoveryHarness.Ip(3), TimeSpan.FromSeconds(10));
        var balancer = h.Balancer(types: DiscoveryRecordTypes.Srv);
        var set = await balancer.GetAsync(TestContext.Current.CancellationToken);
        var ejected = set.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(2)));
        balancer.ReportFailure(ejected, FailureCause.Connect);

        h.Server.InjectFault(DnsFault.ServFail(), "task-a.name");
        h.Server.InjectFault(DnsFault.ServFail(), "task-b.name");
        await h.AdvanceInUseAsync(TimeSpan.FromSeconds(10), balancer.Service);

        var status = balancer.Service.Status;
        status.IsStale.Should().BeTrue("failed target lookups are a failure, not \"no instances\"");
        status.LastError!.Message.Should().Contain("task-a.name").And.Contain("task-b.name");
        balancer.Service.Current!.NegativeReason.Should().BeNull();
        balancer.Current.Endpoints.Should().HaveCount(2).And.Contain(ejected, "the endpoints keep their health");
        ejected.HasLeft.Should().BeFalse("a negative answer would have made the balancer forget it");
        ejected.Ejections.Should().BeGreaterThanOrEqualTo(1, "its ejection record is kept (its probe may have ejected it again since)");
    }

    [Fact]
    public async Task When_some_target_lookups_fail_those_targets_keep_their_previous_addresses()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.IncludeServiceTargetAddresses = false;
        h.Server.AddService("name", 1, 1, 3000, "task-a.name", TimeSpan.FromSeconds(10));
        h.Server.AddService("name", 1, 1, 3000, "task-b.name", TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-a.name", DiscoveryHarness.Ip(2), TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-b.name", DiscoveryHarness.Ip(3), TimeSpan.FromSeconds(10));
        var service = h.Entry(types: DiscoveryRecordTypes.Srv);
        await service.GetAsync(TestContext.Current.CancellationToken);

        // task-b moves to a new address while task-a's lookups fail; a new task-c appears.
        h.Server.SetAddresses("task-b.name", TimeSpan.FromSeconds(10), DiscoveryHarness.Ip(4));
        h.Server.AddService("name", 1, 1, 3000, "task-c.name", TimeSpan.FromSeconds(10));
        h.Server.AddAddress("task-c.name", DiscoveryHarness.Ip(5), TimeSpan.FromSeconds(10));
        h.Server.InjectFault(DnsFault.ServFail(), "task-a.name");
        await h.RefreshOnceAsync(service, maxSeconds: 30);

        DiscoveryHarness.Texts(service.Current!).Should().Equal(DiscoveryHarness.Texts(2, 4, 5), "task-a keeps its address; the others are as DNS says");
        service.Status.LastError.Should().BeNull("the SRV answer itself was good");
        service.Current!.Endpoints.Should().OnlyContain(e => !e.IsMerged);
    }

    [Fact]
    public async Task A_target_that_has_no_addresses_is_still_a_real_no_instances()
    {
        // Its lookup succeeded and found nothing (like a target of "."): that is an answer, not a failure.
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddService("name", 1, 1, 3000, "gone.name", TimeSpan.FromSeconds(10));

        var set = await h.Entry(types: DiscoveryRecordTypes.Srv).GetAsync(TestContext.Current.CancellationToken);

        set.Endpoints.Should().BeEmpty();
        set.NegativeReason.Should().Contain("without addresses");
    }
}
