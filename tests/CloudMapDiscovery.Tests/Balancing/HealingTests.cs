using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Tests.Discovery;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>
/// A task out for its responses is back within 30 s of healing however many trials it failed: default settings, a
/// manual clock, the trial of every ejection failed until the task heals just after the last one.
/// </summary>
public sealed class HealingTests : IAsyncLifetime
{
    private DiscoveryHarness _h = null!;

    public async ValueTask InitializeAsync()
    {
        _h = await DiscoveryHarness.StartAsync();
        _h.SetAddresses(TimeSpan.FromSeconds(600), 2, 3, 4);
    }

    public async ValueTask DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task After_any_number_of_failed_trials_the_next_trial_comes_within_25_s()
    {
        var balancer = _h.Balancer(port: 3000);
        await balancer.GetAsync(TestContext.Current.CancellationToken);
        var sick = balancer.Current.Endpoints[0];
        for (var i = 0; i < 5; i++)
        {
            Answer(balancer, sick, 500);
        }

        sick.Reason.Should().Be(EjectionReason.ServerErrors);
        var waits = new List<TimeSpan>();
        for (var trial = 1; trial <= 12; trial++)
        {
            // The trial fails just before the task heals: the worst moment. How long until the next one is offered?
            waits.Add(await UntilTrialAsync(sick));
            balancer.Pick(balancer.Current, null, RoundRobinPolicy.Instance, panic: true).Should().BeSameAs(sick, "the trial");
            if (trial < 12)
            {
                balancer.ReportResponse(sick, 500);
                sick.Reason.Should().Be(EjectionReason.ServerErrors, "a failed trial ejects it again");
            }
        }

        // Healed: the twelfth trial succeeds.
        balancer.ReportResponse(sick, 200);
        sick.Reason.Should().Be(EjectionReason.None);
        waits.Max().Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(25), "response ejections stop growing at 25 s, jitter included");
        waits.Skip(2).Should().OnlyContain(w => w >= TimeSpan.FromSeconds(22), "they still grow to that cap (10, 20, then 25 s less up to 10 % jitter)");
    }

    [Fact]
    public void Connect_ejections_keep_growing_to_MaxEjectionTime()
    {
        var settings = CloudMapSettingsOf(new CloudMapDiscoveryOptions());
        settings.EjectionTime(12).Should().BeGreaterThanOrEqualTo(settings.MaxEjectionTime * 0.9, "a dead address is re-admitted by its probe the moment it connects")
            .And.BeLessThanOrEqualTo(settings.MaxEjectionTime);
        settings.EjectionTime(12, forResponses: true).Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(25));
        settings.EjectionTime(1, forResponses: true).Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(11));
    }

    private static EjectionSettings CloudMapSettingsOf(CloudMapDiscoveryOptions options)
        => DependencyInjection.CloudMapSettings.From(options).Balancing.Ejection;

    // Moves the clock in 100 ms steps until the ejection's end offers the endpoint its trial; returns how long that took.
    private async Task<TimeSpan> UntilTrialAsync(BalancedEndpoint endpoint)
    {
        var waited = TimeSpan.Zero;
        while (!endpoint.TrialOffered)
        {
            waited.Should().BeLessThan(TimeSpan.FromMinutes(3), "a trial must come");
            await _h.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            waited += TimeSpan.FromMilliseconds(100);
        }

        return waited;
    }

    private static void Answer(ServiceBalancer balancer, BalancedEndpoint e, int status)
    {
        balancer.Finish(e, balancer.Start(e, RoundRobinPolicy.Instance));
        balancer.ReportResponse(e, status);
    }
}
