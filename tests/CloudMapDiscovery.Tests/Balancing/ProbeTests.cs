using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Discovery;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>
/// Background connects decide when an address takes requests: an ejected one is re-admitted when a probe connects,
/// not when its time is over, and a new one waits for its probe while the service has healthy ones. Real sockets on
/// 127.0.0.x, a manual clock for ejections and probe timeouts.
/// </summary>
public sealed class ProbeTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60);
    private readonly int _port = LoopbackTasks.FreePort();
    private readonly List<IDisposable> _tasks = [];
    private DiscoveryHarness _h = null!;

    public async ValueTask InitializeAsync()
    {
        _h = await DiscoveryHarness.StartAsync(o =>
        {
            o.BaseEjectionTime = TimeSpan.FromSeconds(10);
            o.MaxEjectionTime = TimeSpan.FromSeconds(60);
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _h.DisposeAsync();
        _tasks.ForEach(t => t.Dispose());
    }

    [Fact]
    public async Task An_ejected_address_comes_back_only_after_a_probe_connects_and_each_failed_probe_ejects_it_for_longer()
    {
        Accepting(2);
        Accepting(3);
        var balancer = await StartAsync(2, 3, 4); // nothing listens on .4: connects are refused
        var dead = Endpoint(balancer, 4);

        balancer.ReportFailure(dead, FailureCause.Connect);
        dead.AwaitingProbe.Should().BeTrue();
        _h.Clock.ActiveTimers.Should().Be(2, "the sweeper and the probe's timer");

        // The ejection time is over: the probe runs, is refused, and the address is ejected again, for twice as long.
        await _h.AdvanceAsync(Until(dead.EjectedUntil) + TimeSpan.FromMilliseconds(1), step: TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(() => dead.ConsecutiveFailures == 2, "the refused probe");
        dead.Ejections.Should().Be(2);
        Until(dead.EjectedUntil).Should().BeCloseTo(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(2));
        Picks(balancer, 40).Should().NotContain(dead, "a refused probe keeps it out");

        // The task comes back: the next probe connects and re-admits it; nothing was sent to it before.
        var back = Accepting(4);
        await _h.AdvanceAsync(Until(dead.EjectedUntil) + TimeSpan.FromMilliseconds(1), step: TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => !dead.AwaitingProbe, "the successful probe");
        back.Accepted.Should().Be(1, "one probe, one connect");
        dead.EjectedUntil.Should().Be(0);
        Picks(balancer, 30).Count(p => p == dead).Should().Be(10, "back in the rotation");
        dead.ConsecutiveFailures.Should().Be(2, "kept, so that its next failure ejects it again at once");
    }

    [Fact]
    public async Task A_probe_into_a_black_hole_gives_up_after_ConnectTimeout_on_the_clock()
    {
        var (hole, balancer, dead) = await ProbeIntoBlackHoleAsync();
        using var _ = hole;
        _h.Snapshot().Endpoints.Single(e => e.Address == Ip(3).ToString()).State.Should().Be(EndpointState.Probing);
        dead.ConsecutiveFailures.Should().Be(1, "the connect hangs until the probe's timeout");

        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await Poll.UntilAsync(() => dead.ConsecutiveFailures == 2, "the timed-out probe");
        _h.Snapshot().Endpoints.Single(e => e.Address == Ip(3).ToString()).State.Should().Be(EndpointState.Ejected);
        Picks(balancer, 20).Should().NotContain(dead);
    }

    [Fact]
    public async Task A_new_address_waits_for_its_probe_while_the_service_has_healthy_ones()
    {
        Accepting(2);
        Accepting(3);
        var balancer = await StartAsync(2, 3);
        using var hole = await BlackHoleListener.OpenAsync(new IPEndPoint(Ip(4), _port));

        _h.SetAddresses(Ttl, 2, 3, 4, 5);
        var t5 = Accepting(5);
        await _h.RefreshOnceAsync(balancer.Service, maxSeconds: 70);

        var stuck = Endpoint(balancer, 4);
        var fresh = Endpoint(balancer, 5);
        _h.Snapshot().Endpoints.Single(e => e.Address == Ip(4).ToString()).EjectionReason.Should().Be("new", "it has failed nothing yet");
        await Poll.UntilAsync(() => !fresh.AwaitingProbe, "the probe of the reachable new address");
        t5.Accepted.Should().Be(1);
        stuck.AwaitingProbe.Should().BeTrue("its connect hangs");
        Picks(balancer, 60).Should().NotContain(stuck).And.Contain(fresh);

        // Its probe times out: it is ejected like any address that failed a connect. The probe runs on the thread
        // pool: its timeout must be on the clock before the clock moves.
        await Poll.UntilAsync(() => _h.Clock.ActiveTimers >= 2, "the sweeper's timer and the stuck probe's timeout");
        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await Poll.UntilAsync(() => stuck.ConsecutiveFailures == 1, "the timed-out probe");
        stuck.EjectedUntil.Should().NotBe(0);
        stuck.Reason.Should().Be(EjectionReason.Connect, "now it has failed a connect");
        Picks(balancer, 60).Should().NotContain(stuck);
    }

    [Fact]
    public async Task With_nothing_healthy_to_fall_back_on_new_addresses_take_requests_at_once()
    {
        var balancer = await StartAsync(2, 3); // a cold start: nothing listens, nothing is probed

        balancer.Current.Endpoints.Should().OnlyContain(e => !e.AwaitingProbe);
        Picks(balancer, 10).Distinct().Should().HaveCount(2);
    }

    [Fact]
    public async Task An_address_that_leaves_DNS_stops_its_probe()
    {
        Accepting(2);
        var balancer = await StartAsync(2, 3);
        var dead = Endpoint(balancer, 3);
        balancer.ReportFailure(dead, FailureCause.Connect);
        _h.Clock.ActiveTimers.Should().Be(2);

        _h.SetAddresses(Ttl, 2);
        await _h.RefreshOnceAsync(balancer.Service, maxSeconds: 70);

        dead.Probe.Should().BeNull();
        _h.Clock.ActiveTimers.Should().Be(1, "only the sweeper is left");
    }

    [Fact]
    public async Task A_failure_reported_after_the_address_left_DNS_starts_no_probe()
    {
        Accepting(2);
        var balancer = await StartAsync(2, 3);
        var leaving = Endpoint(balancer, 3); // a request in flight holds it

        _h.SetAddresses(Ttl, 2);
        await _h.RefreshOnceAsync(balancer.Service, maxSeconds: 70);
        balancer.ReportFailure(leaving, FailureCause.Connect); // that request's connect fails after the refresh

        leaving.HasLeft.Should().BeTrue();
        leaving.Probe.Should().BeNull("nothing is probed for an address that left DNS");
        _h.Clock.ActiveTimers.Should().Be(1, "only the sweeper");
        await _h.AdvanceAsync(TimeSpan.FromMinutes(5), step: TimeSpan.FromSeconds(20));
        leaving.ConsecutiveFailures.Should().Be(1, "no probe ran");
    }

    [Fact]
    public async Task Disposal_stops_every_probe()
    {
        Accepting(2);
        var balancer = await StartAsync(2, 3);
        balancer.ReportFailure(Endpoint(balancer, 3), FailureCause.Connect);
        _h.Clock.ActiveTimers.Should().Be(2);

        _h.Registry.Dispose();

        _h.Clock.ActiveTimers.Should().Be(0);
    }

    [Fact]
    public async Task With_probes_off_ejections_end_by_time_and_new_addresses_take_requests_at_once()
    {
        await _h.DisposeAsync();
        _h = await DiscoveryHarness.StartAsync(o => (o.ProbeEjectedEndpoints, o.ProbeNewEndpoints) = (false, false));
        Accepting(2);
        var balancer = await StartAsync(2, 3);
        var dead = Endpoint(balancer, 3);
        balancer.ReportFailure(dead, FailureCause.Connect);
        dead.AwaitingProbe.Should().BeFalse();

        _h.Clock.Advance(Until(dead.EjectedUntil));
        Picks(balancer, 10).Should().Contain(dead, "re-admitted blindly when its time is over");

        _h.SetAddresses(Ttl, 2, 3, 4);
        await _h.RefreshOnceAsync(balancer.Service, maxSeconds: 70);
        Picks(balancer, 30).Should().Contain(Endpoint(balancer, 4));
    }

    [Fact]
    public async Task An_SRV_address_is_probed_on_the_port_DNS_gives_it_not_on_the_port_of_the_request()
    {
        var srvPort = LoopbackTasks.FreePort();
        _h.Server.AddService("name", 1, 1, (ushort)srvPort, "task-a.name", Ttl);
        _h.Server.AddService("name", 1, 1, (ushort)srvPort, "task-b.name", Ttl);
        _h.Server.AddAddress("task-a.name", Ip(2), Ttl);
        _h.Server.AddAddress("task-b.name", Ip(3), Ttl);
        var onSrvPort = Accepting(3, srvPort);
        var onRequestPort = Accepting(3); // the port of the request: a probe that went here would pass too, but count here
        var balancer = _h.Balancer(types: DiscoveryRecordTypes.Srv, port: _port);
        await balancer.GetAsync(TestContext.Current.CancellationToken);
        var dead = balancer.Current.Endpoints.Single(e => e.Address.Address.Equals(Ip(3)));
        dead.Address.Port.Should().Be(srvPort);

        balancer.ReportFailure(dead, FailureCause.Connect);
        await _h.AdvanceAsync(Until(dead.EjectedUntil) + TimeSpan.FromMilliseconds(1), step: TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(() => !dead.AwaitingProbe, "the probe on the SRV port");

        onSrvPort.Accepted.Should().Be(1);
        onRequestPort.Accepted.Should().Be(0, "an SRV address has a port of its own");
    }

    [Fact]
    public async Task Probes_are_counted_by_outcome_and_an_address_being_probed_is_gauged_as_probing()
    {
        var meter = _h.Registry.Metrics.Meter;
        using var probes = new MetricCollector<long>(meter, "cloudmap.probes");
        using var endpoints = new MetricCollector<long>(meter, "cloudmap.endpoints");
        // Its ejection ends: the probe's connect hangs, and the gauge shows the address as probing.
        var (hole, _, dead) = await ProbeIntoBlackHoleAsync();
        using var closing = hole;
        endpoints.RecordObservableInstruments();
        Latest(endpoints, "probing").Should().Be(1);
        Latest(endpoints, "healthy").Should().Be(1);

        // It times out: one failed probe.
        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await Poll.UntilAsync(() => dead.ConsecutiveFailures == 2, "the timed-out probe");
        Count(probes, "failure").Should().Be(1);
        Count(probes, "success").Should().Be(0);

        // The task is back: the next probe connects, one successful probe.
        hole.Dispose();
        Accepting(3);
        await _h.AdvanceAsync(Until(dead.EjectedUntil) + TimeSpan.FromMilliseconds(1), step: TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => !dead.AwaitingProbe, "the successful probe");
        Count(probes, "success").Should().Be(1);
        Count(probes, "failure").Should().Be(1);
        endpoints.RecordObservableInstruments();
        Latest(endpoints, "healthy").Should().Be(2);
        Latest(endpoints, "probing").Should().Be(0);

        static long Count(MetricCollector<long> collector, string outcome) => collector.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags["server.address"], DiscoveryHarness.Host) && Equals(m.Tags["cloudmap.probe.outcome"], outcome))
            .Sum(m => m.Value);

        static long Latest(MetricCollector<long> collector, string state) => collector.GetMeasurementSnapshot()
            .Last(m => Equals(m.Tags["server.address"], DiscoveryHarness.Host) && Equals(m.Tags["cloudmap.endpoint.state"], state)).Value;
    }

    private static IPAddress Ip(int n) => DiscoveryHarness.Ip(n);

    private TimeSpan Until(long timestamp) => DiscoveryHarness.Elapsed(_h.Clock, _h.Clock.GetTimestamp(), timestamp);

    private static BalancedEndpoint Endpoint(ServiceBalancer balancer, int n) => balancer.Current.Endpoints.Single(e => e.Address.Address.Equals(Ip(n)));

    private static List<BalancedEndpoint> Picks(ServiceBalancer balancer, int count)
        => [.. Enumerable.Range(0, count).Select(_ => balancer.Pick(balancer.Current, null)!)];

    /// <summary>127.0.0.2 accepts, 127.0.0.3 is a black hole, ejected after a failed connect; returns once its probe's connect hangs.</summary>
    private async Task<(BlackHoleListener Hole, ServiceBalancer Balancer, BalancedEndpoint Dead)> ProbeIntoBlackHoleAsync()
    {
        Accepting(2);
        var hole = await BlackHoleListener.OpenAsync(new IPEndPoint(Ip(3), _port));
        var balancer = await StartAsync(2, 3);
        var dead = Endpoint(balancer, 3);
        balancer.ReportFailure(dead, FailureCause.Connect);

        await _h.AdvanceAsync(Until(dead.EjectedUntil) + TimeSpan.FromMilliseconds(1), step: TimeSpan.FromSeconds(20));
        await Poll.UntilAsync(() => dead.Probe is { Running: true }, "the probe to start");
        return (hole, balancer, dead);
    }

    private CountingListener Accepting(int n, int? port = null)
    {
        var listener = CountingListener.Open(new IPEndPoint(Ip(n), port ?? _port));
        _tasks.Add(listener);
        return listener;
    }

    private async Task<ServiceBalancer> StartAsync(params int[] addresses)
    {
        _h.SetAddresses(Ttl, addresses);
        var balancer = _h.Balancer(port: _port); // as the HTTP handler does when it routes a request
        await balancer.GetAsync(default);
        return balancer;
    }
}
