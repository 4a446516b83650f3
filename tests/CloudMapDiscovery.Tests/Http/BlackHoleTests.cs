using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// A black-holed task address in DNS (SYNs dropped, as for a stopped Fargate task still listed): after the first
/// request finds it dead, no request connects to it again, however many ejections end while it stays listed.
/// </summary>
[Collection(HttpTestGroup.Name)]
public sealed class BlackHoleTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task No_request_waits_on_a_black_holed_address_twice()
    {
        var clock = new TestClock();
        var connects = new ConnectCounter();
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            o => (o.ConnectTimeout, o.BaseEjectionTime, o.MaxEjectionTime) = (ConnectTimeout, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)),
            services: (s, _) => s.AddSingleton<TimeProvider>(clock),
            client: b => b.ConfigurePrimaryHttpMessageHandler(() => connects.CreateHandler()));
        await h.Fleet.BlackHoleAsync(2);
        var hole = h.Fleet.Addresses[2];
        using var client = h.CreateClient();

        // Round robin from a random start: within three requests one is sent to the hole, waits out the connect
        // timeout and is retried on another task.
        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync(h.Url(), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        connects.Count(hole).Should().Be(1, "the first request to the hole found it dead");

        // Two minutes on the clock: the ejection ends again and again, each time a probe (not a request) connects,
        // times out on the clock and ejects the address for longer.
        for (var second = 0; second < 120; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            for (var i = 0; i < 3; i++)
            {
                (await client.GetAsync(h.Url(), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
            }
        }

        connects.Count(hole).Should().Be(1, "no request connected to the hole after it was found dead");
        (h.Fleet.Hits(0) + h.Fleet.Hits(1)).Should().Be(363, "every request was answered by a live task");
        h.Fleet.Hits(0).Should().BeCloseTo(h.Fleet.Hits(1), 1, "the two live tasks share them evenly");
        var endpoint = h.Snapshot().Endpoints.Single(e => e.Address == hole.ToString());
        endpoint.State.Should().BeOneOf(EndpointState.Ejected, EndpointState.Probing);
        endpoint.ConsecutiveFailures.Should().BeGreaterThan(2, "each probe into the hole failed and counted");
    }

    [Fact]
    public async Task A_retry_never_dials_an_address_known_to_be_dead_and_the_error_names_what_was_tried()
    {
        var clock = new TestClock();
        var connects = new ConnectCounter();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            o => (o.ConnectTimeout, o.BaseEjectionTime) = (ConnectTimeout, TimeSpan.FromSeconds(10)),
            services: (s, _) => s.AddSingleton<TimeProvider>(clock),
            client: b => b.ConfigurePrimaryHttpMessageHandler(() => connects.CreateHandler()));
        await h.Fleet.BlackHoleAsync(0);
        await h.Fleet.BlackHoleAsync(1);
        using var client = h.CreateClient();

        // The first request finds both dead: two connects, both time out, both addresses ejected.
        await client.Invoking(c => c.GetAsync(h.Url(), TestContext.Current.CancellationToken)).Should().ThrowAsync<HttpRequestException>();
        Connects(connects, h).Should().Be(2);
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.State == EndpointState.Ejected);

        // Nothing is available: the first attempt panics onto one of them, but its retry does not dial the other.
        var thrown = (await client.Invoking(c => c.GetAsync(h.Url(), TestContext.Current.CancellationToken)).Should().ThrowAsync<HttpRequestException>()).Which;

        Connects(connects, h).Should().Be(3, "one connect for the second request: its retry had nowhere to go");
        thrown.Message.Should().Contain("Not retried: every other address is out").And.Contain("ejected: connect");
        var tried = h.Fleet.Addresses.Single(a => thrown.Message.Contains($"{a}:{h.Fleet.Port} (", StringComparison.Ordinal));
        thrown.Message.Should().Contain(h.Fleet.Addresses.Single(a => !a.Equals(tried)).ToString(), "the address not dialed is named with why");
    }

    private static int Connects(ConnectCounter connects, DiscoveryHarness h) => h.Fleet.Addresses.Sum(connects.Count);
}
