using CloudMapDiscovery.Testing;
using static CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure.ProviderHarness;

namespace CloudMapDiscovery.ServiceDiscovery.Tests;

/// <summary>A name DNS answered once keeps being asked for through an outage longer than MaxStale, so a watcher that asks only when its token fires learns the set DNS gives after it.</summary>
public sealed class OutageTests
{
    private const string Query = "http://name.internal:3000";

    [Fact]
    public async Task After_an_outage_longer_than_MaxStale_the_watcher_learns_the_new_set()
    {
        await using var h = await StartAsync(o => o.MaxStale = TimeSpan.FromSeconds(30));
        h.SetAddresses(TimeSpan.Zero, 2, 3);
        var source = await h.Resolver.GetEndpointsAsync(Query, TestContext.Current.CancellationToken);

        h.Server.InjectFault(DnsFault.ServFail());
        await h.AdvanceAsync(TimeSpan.FromSeconds(120));
        h.TryGetEntry(out var entry).Should().BeTrue();
        entry!.Current.Should().BeNull("stale answer expired");
        var queriesAtExpiry = h.AQueries;

        h.Server.ClearFaults();
        h.SetAddresses(TimeSpan.Zero, 4, 5);
        await h.AdvanceAsync(TimeSpan.FromSeconds(300));

        h.AQueries.Should().BeGreaterThan(queriesAtExpiry, "a held name should keep being refreshed");
        source.ChangeToken.HasChanged.Should().BeTrue("the watcher must learn of the new tasks");
    }
}
