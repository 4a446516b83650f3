using CloudMapDiscovery.Discovery;

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
}
