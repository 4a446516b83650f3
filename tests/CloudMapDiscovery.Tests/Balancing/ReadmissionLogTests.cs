using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace CloudMapDiscovery.Tests.Balancing;

public sealed class ReadmissionLogTests
{
    [Fact]
    public void Readmission_is_logged_with_the_endpoint_and_its_service_host()
    {
        var clock = new TestClock();
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        using var registry = new Registries(clock, loggerFactory, resolverFactory: _ => new BalancingHarness.NoDns());
        var options = new CloudMapDiscoveryOptions { BaseEjectionTime = TimeSpan.FromSeconds(10) };
        var entry = registry.GetBalancers(options).GetBalancer("orders.internal", DiscoveryRecordTypes.A);
        var endpoint = new BalancedEndpoint(new EndpointAddress(IPAddress.Parse("127.0.0.7"), null));
        var set = BalancingHarness.Set(endpoint);

        entry.ReportFailure(endpoint, FailureCause.Connect);
        clock.Advance(TimeSpan.FromSeconds(12)); // past 10 s + 10 % jitter
        entry.Pick(set, null).Should().BeSameAs(endpoint);

        logs.GetSnapshot().Select(r => r.Message).Should().ContainSingle(m => m.StartsWith("Re-admitted", StringComparison.Ordinal))
            .Which.Should().Be("Re-admitted 127.0.0.7 of orders.internal");
    }
}
