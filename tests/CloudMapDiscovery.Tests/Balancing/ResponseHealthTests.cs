using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Tests.Discovery;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>
/// What responses say about a task, judged by the balancer of a DNS-discovered service: the failure-rate detector, the
/// ejection budget, trial requests and health per address and port. A manual clock; no request is sent.
/// </summary>
public sealed class ResponseHealthTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(60);
    private DiscoveryHarness _h = null!;

    public async ValueTask InitializeAsync()
    {
        _h = await DiscoveryHarness.StartAsync(o => (o.BaseEjectionTime, o.MaxEjectionTime) = (TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)));
        _h.SetAddresses(Ttl, 2, 3, 4);
    }

    public async ValueTask DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task A_task_failing_half_its_requests_is_ejected_for_its_failure_rate_when_its_peers_do_not_fail()
    {
        var balancer = await StartAsync(port: 3000);
        var (sick, well) = (balancer.Current.Endpoints[0], balancer.Current.Endpoints[1..]);

        // 40 requests each in the window; one in two fails on the sick task, never five in a row.
        for (var i = 0; i < 40; i++)
        {
            Answer(balancer, sick, i % 2 == 0 ? 500 : 200);
            foreach (var e in well)
            {
                Answer(balancer, e, 200);
            }
        }

        sick.EjectedUntil.Should().Be(0, "the consecutive rule never fired");

        // The window ends; the next failure judges it.
        _h.Clock.Advance(TimeSpan.FromSeconds(10));
        Answer(balancer, sick, 500);

        sick.Reason.Should().Be(EjectionReason.FailureRate);
        well.Should().OnlyContain(e => e.EjectedUntil == 0);
    }

    [Fact]
    public async Task A_failure_rate_shared_by_every_task_ejects_none()
    {
        var balancer = await StartAsync(port: 3000);
        for (var i = 0; i < 40; i++)
        {
            foreach (var e in balancer.Current.Endpoints)
            {
                Answer(balancer, e, i % 2 == 0 ? 500 : 200);
            }
        }

        _h.Clock.Advance(TimeSpan.FromSeconds(10));
        Answer(balancer, balancer.Current.Endpoints[0], 500);

        balancer.Current.Endpoints.Should().OnlyContain(e => e.EjectedUntil == 0, "a service-wide failure is not one task's: no peer does better");
    }

    [Fact]
    public async Task Too_few_requests_are_not_judged()
    {
        var balancer = await StartAsync(port: 3000);
        var sick = balancer.Current.Endpoints[0];
        for (var i = 0; i < 19; i++)
        {
            Answer(balancer, sick, i % 2 == 0 ? 500 : 200);
            Answer(balancer, balancer.Current.Endpoints[1], 200);
            Answer(balancer, balancer.Current.Endpoints[2], 200);
        }

        _h.Clock.Advance(TimeSpan.FromSeconds(10));
        Answer(balancer, sick, 500);

        sick.EjectedUntil.Should().Be(0, "19 answered requests are below FailureRateMinimumRequests (20)");
    }

    [Fact]
    public async Task A_trial_is_taken_by_exactly_one_request_and_a_cancelled_trial_is_offered_again()
    {
        var balancer = await StartAsync(port: 3000);
        var sick = balancer.Current.Endpoints[0];
        for (var i = 0; i < 5; i++)
        {
            Answer(balancer, sick, 503);
        }

        sick.Reason.Should().Be(EjectionReason.ServerErrors);
        await _h.AdvanceAsync(TimeSpan.FromSeconds(12));
        sick.TrialOffered.Should().BeTrue();

        var policy = RoundRobinPolicy.Instance;
        var picks = Enumerable.Range(0, 30).Select(_ => balancer.Pick(balancer.Current, null, policy, panic: true)).ToList();
        picks[0].Should().BeSameAs(sick, "the first pick after the ejection ends takes the trial");
        picks.Skip(1).Should().NotContain(sick, "one trial, one request");

        balancer.Abandon(sick); // its caller gave up: no verdict
        balancer.Pick(balancer.Current, null, policy, panic: true).Should().BeSameAs(sick, "the trial is offered again");

        balancer.ReportResponse(sick, 200);
        sick.EjectedUntil.Should().Be(0, "the trial succeeded");
        sick.Reason.Should().Be(EjectionReason.None);
    }

    [Fact]
    public async Task Health_is_kept_per_address_and_port()
    {
        var onEightyEighty = await StartAsync(port: 8080);
        var onThreeThousand = await StartAsync(port: 3000);
        onEightyEighty.Should().NotBeSameAs(onThreeThousand);

        var broken = onEightyEighty.Current.Endpoints[0];
        onEightyEighty.ReportFailure(broken, FailureCause.Connect);

        broken.EjectedUntil.Should().NotBe(0);
        onThreeThousand.Current.Endpoints.Single(e => e.Address == broken.Address).EjectedUntil.Should().Be(0, "the task still answers on :3000");
        _h.Balancers.GetBalancer(DiscoveryHarness.Host, CloudMapDiscovery.DiscoveryRecordTypes.A, 8080).Should().BeSameAs(onEightyEighty);
    }

    [Fact]
    public async Task Connect_failures_are_not_limited_by_the_ejection_budget()
    {
        var balancer = await StartAsync(port: 3000);
        foreach (var e in balancer.Current.Endpoints)
        {
            balancer.ReportFailure(e, FailureCause.Connect);
        }

        balancer.Current.Endpoints.Should().OnlyContain(e => e.EjectedUntil != 0, "a dead task is dead whatever its peers do");
    }

    [Fact]
    public async Task A_new_address_starts_at_its_peers_mean_latency_estimate_not_at_zero()
    {
        var balancer = await StartAsync(port: 3000);
        var policy = PickPolicy.For(LoadBalancingPolicy.PeakEwma, _h.Registry.Context);
        foreach (var (e, ms) in balancer.Current.Endpoints.Zip(new[] { 2, 4, 6 }))
        {
            var started = balancer.Start(e, policy);
            _h.Clock.Advance(TimeSpan.FromMilliseconds(ms));
            balancer.Finish(e, started);
        }

        _h.SetAddresses(Ttl, 2, 3, 4, 5);
        await _h.RefreshOnceAsync(balancer.Service, maxSeconds: 60);

        var added = balancer.Current.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(5)));
        var (now, tau) = (_h.Registry.Context.CoarseNow(), ((PeakEwmaPolicy)policy).Tau);
        var peers = balancer.Current.Endpoints.Where(e => e != added).Select(e => e.Load.Estimate(now, tau)).ToList();
        var estimate = added.Load.Estimate(now, tau);
        estimate.Should().BeGreaterThan(peers.Min()).And.BeLessThan(peers.Max(), "neutral: between its peers, neither flooded (zero) nor starved");
    }

    private static void Answer(ServiceBalancer balancer, BalancedEndpoint e, int status)
    {
        balancer.Finish(e, balancer.Start(e, RoundRobinPolicy.Instance));
        balancer.ReportResponse(e, status);
    }

    private async Task<ServiceBalancer> StartAsync(int port)
    {
        var balancer = _h.Balancer(port: port);
        await balancer.GetAsync(TestContext.Current.CancellationToken);
        balancer.Current.Endpoints.Should().HaveCount(3);
        return balancer;
    }
}
