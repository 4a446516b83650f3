using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Tests.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace CloudMapDiscovery.Tests.Balancing;

public sealed class BudgetLogTests
{
    [Fact]
    public async Task A_task_kept_in_rotation_by_a_spent_ejection_budget_is_logged_once_per_streak()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        await using var h = await DiscoveryHarness.StartAsync(loggerFactory: loggerFactory);
        h.SetAddresses(TimeSpan.FromSeconds(60), 7, 8, 9);
        var balancer = h.Balancer(port: 3000);
        await balancer.GetAsync(TestContext.Current.CancellationToken);
        var first = balancer.Current.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(7)));
        var second = balancer.Current.Endpoints.Single(e => e.Address.Address.Equals(DiscoveryHarness.Ip(8)));

        for (var i = 0; i < 5; i++)
        {
            balancer.ReportResponse(first, 500);
        }

        first.Reason.Should().Be(EjectionReason.ServerErrors);
        for (var i = 0; i < 8; i++)
        {
            balancer.ReportResponse(second, 500);
        }

        second.EjectedUntil.Should().Be(0, "50 % of three addresses is one, and it is out already");
        logs.GetSnapshot().Where(r => r.Id.Id == 116).Select(r => r.Message).Should().ContainSingle()
            .Which.Should().Be("127.0.0.8 of name.internal reached its ejection threshold (server_errors) but stays in the rotation: MaxEjectionPercent (50 %) of the service's addresses are out for their responses already");
    }
}
