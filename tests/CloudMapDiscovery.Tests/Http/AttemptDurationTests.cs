using System.Diagnostics;
using CloudMapDiscovery.Http;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// Polly reports only attempts it times itself: the pipeline starts at the first retry, so no attempt made before it
/// shows up in Polly's telemetry as lasting about nothing. The first attempt's real duration is its own span.
/// </summary>
[Collection(HttpTestGroup.Name)]
public sealed class AttemptDurationTests
{
    private const string Client = "attempt-duration";
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_first_attempt_that_waited_out_a_connect_timeout_is_not_reported_to_Polly_as_taking_no_time()
    {
        // Polly's meter is static (one per process); its measurements carry the pipeline and the client's name.
        using var durations = new MetricCollector<double>(null, "Polly", "resilience.polly.strategy.attempt.duration");
        var spans = new SpanLog(); // other tests add their spans on their threads while this one reads
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource("CloudMapDiscovery").AddInMemoryExporter(spans).Build();
        // A client name of its own: the meter is shared with tests running in parallel.
        await using var h = await DiscoveryHarness.StartAsync(3, services: (s, dns) => s.AddHttpClient(Client).AddCloudMapDiscovery(o =>
        {
            o.NameServers.Add(dns.EndPoint.ToString());
            (o.DnsTimeout, o.DnsAttempts) = (TimeSpan.FromSeconds(5), 1);
            (o.MaxAttempts, o.ConnectTimeout) = (3, ConnectTimeout);
        }));
        await h.Fleet.BlackHoleAsync(0);
        await h.Fleet.BlackHoleAsync(1);
        using var client = h.CreateClient(Client);

        // Round robin from a random start: within three requests one starts on a black hole and waits out the timeout.
        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync(h.Url(), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        tracing.ForceFlush();
        var firstAttempts = spans.Snapshot()
            .Where(s => Equals(s.GetTagItem("network.peer.port"), h.Fleet.Port) && Equals(s.GetTagItem("cloudmap.attempt"), 1) && s.GetTagItem("error.type") is not null)
            .ToList();
        firstAttempts.Should().NotBeEmpty("a request started on a black hole");
        firstAttempts.Should().OnlyContain(s => s.Duration >= ConnectTimeout * 0.9, "the span of a first attempt lasts as long as its connect waited");

        var polly = durations.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags.GetValueOrDefault("pipeline.instance"), Client) && Equals(m.Tags.GetValueOrDefault("pipeline.name"), RetryPipeline.PipelineName))
            .ToList();
        polly.Should().NotBeEmpty("the retries ran in Polly's pipeline");
        polly.Should().NotContain(
            m => Equals(m.Tags.GetValueOrDefault("attempt.handled"), true) && m.Value < ConnectTimeout.TotalMilliseconds * 0.9,
            "every failed attempt Polly reports waited out the connect timeout (the round robin decides whether there is one)");
    }
}
