using System.Diagnostics.Metrics;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>The <c>CloudMapDiscovery</c> meter records what the handler did, with OpenTelemetry-style tags.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class MetricsTests
{
    private const string Service = "name.internal";

    [Fact]
    public async Task Requests_retries_ejections_and_DNS_queries_are_recorded_with_tags()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        var meter = h.Context.Metrics.Meter;
        meter.Name.Should().Be("CloudMapDiscovery");
        using var requests = new MetricCollector<long>(meter, "cloudmap.requests");
        using var retries = new MetricCollector<long>(meter, "cloudmap.retries");
        using var ejections = new MetricCollector<long>(meter, "cloudmap.ejections");
        using var queries = new MetricCollector<long>(meter, "cloudmap.dns.queries");
        using var duration = new MetricCollector<double>(meter, "cloudmap.dns.duration");
        using var lookups = new MetricCollector<long>(meter, "cloudmap.cache.lookups");
        using var endpoints = new MetricCollector<long>(meter, "cloudmap.endpoints");

        using var client = h.CreateClient();
        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        await h.Fleet.KillAsync(0);
        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        }

        h.Dns.RemoveName("name");
        await ((Func<Task>)(() => client.GetStringAsync(h.Url(host: "gone.internal")))).Should().ThrowAsync<HttpRequestException>();
        endpoints.RecordObservableInstruments();

        Sum(requests, ("server.address", Service), ("cloudmap.request.outcome", "success")).Should().Be(3);
        Sum(requests, ("server.address", Service), ("cloudmap.request.outcome", "success_after_retry")).Should().Be(1);
        Sum(requests, ("server.address", "gone.internal"), ("cloudmap.request.outcome", "no_instances")).Should().Be(1);
        Sum(retries, ("server.address", Service)).Should().Be(1);
        Sum(ejections, ("server.address", Service), ("cloudmap.ejection.reason", "connect")).Should().Be(1);
        Sum(queries, ("dns.question.type", "a"), ("dns.response_code", "noerror")).Should().Be(1);
        Sum(queries, ("dns.question.type", "a"), ("dns.response_code", "nxdomain")).Should().Be(1);
        duration.GetMeasurementSnapshot().Should().HaveCount(2).And.OnlyContain(m => m.Value >= 0 && m.Value < 5);
        Sum(lookups, ("server.address", Service), ("cloudmap.cache.result", "miss")).Should().Be(1);
        Sum(lookups, ("server.address", Service), ("cloudmap.cache.result", "hit")).Should().Be(3);
        Sum(endpoints, ("server.address", Service), ("cloudmap.endpoint.state", "ejected")).Should().Be(1);
        Sum(endpoints, ("server.address", Service), ("cloudmap.endpoint.state", "healthy")).Should().Be(2);
    }

    [Fact]
    public async Task An_ejection_for_server_errors_is_tagged_with_its_reason()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var ejections = new MetricCollector<long>(h.Context.Metrics.Meter, "cloudmap.ejections");
        using var client = h.CreateClient();
        h.Fleet.Answer(1, 502);

        for (var i = 0; i < 15; i++)
        {
            using var response = await client.GetAsync(h.Url(), TestContext.Current.CancellationToken);
        }

        Sum(ejections, ("server.address", Service), ("cloudmap.ejection.reason", "server_errors")).Should().Be(1);
        Sum(ejections, ("server.address", Service)).Should().Be(1, "nothing else was ejected");
    }

    [Fact]
    public async Task Cancelled_requests_and_unexpected_errors_are_counted()
    {
        await using var h = await DiscoveryHarness.StartAsync(2, client: b => b.ConfigurePrimaryHttpMessageHandler(() => new ThrowingOnPathHandler { InnerHandler = new SocketsHttpHandler() }));
        using var requests = new MetricCollector<long>(h.Context.Metrics.Meter, "cloudmap.requests");
        using var client = h.CreateClient();
        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken); // warm

        using var cancel = new CancellationTokenSource();
        var slow = client.GetAsync(h.Url("/slow"), cancel.Token);
        await h.Fleet.SlowArrived.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        await ((Func<Task>)(() => slow)).Should().ThrowAsync<OperationCanceledException>();
        await ((Func<Task>)(() => client.GetAsync(h.Url("/throw")))).Should().ThrowAsync<InvalidOperationException>();

        Sum(requests, ("cloudmap.request.outcome", "cancelled")).Should().Be(1);
        Sum(requests, ("cloudmap.request.outcome", "error")).Should().Be(1);
    }

    [Fact]
    public async Task A_caller_that_cancels_as_a_retry_is_decided_gets_its_cancellation_counted_as_such()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        var meter = h.Context.Metrics.Meter;
        using var requests = new MetricCollector<long>(meter, "cloudmap.requests");
        using var client = h.CreateClient();
        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken); // warm: both tasks known
        await h.Fleet.KillAsync(0);

        // The caller gives up at the moment the retry is recorded: after the failed attempt was classified, before
        // the next attempt is made (Polly then hands back its own cancellation, without calling the handler).
        using var cancel = new CancellationTokenSource();
        using var listener = InstrumentListener.Start(meter, "cloudmap.retries", (_, _, _, _) => cancel.Cancel());

        Exception? thrown = null;
        for (var i = 0; i < 2 && thrown is null; i++) // round robin: one of two requests goes to the dead task first
        {
            try
            {
                using var response = await client.GetAsync(h.Url(), cancel.Token);
            }
#pragma warning disable CA1031 // the test inspects whatever was thrown
            catch (Exception ex)
#pragma warning restore CA1031
            {
                thrown = ex;
            }
        }

        thrown.Should().BeAssignableTo<OperationCanceledException>("the caller cancelled; the failure before it is not the request's outcome");
        Sum(requests, ("cloudmap.request.outcome", "cancelled")).Should().Be(1);
        Sum(requests, ("cloudmap.request.outcome", "failure")).Should().Be(0);
    }

    [Fact]
    public async Task A_failed_DNS_lookup_is_recorded_with_its_error_and_real_duration()
    {
        await using var h = await DiscoveryHarness.StartAsync(1, o => o.DnsTimeout = TimeSpan.FromMilliseconds(300));
        using var queries = new MetricCollector<long>(h.Context.Metrics.Meter, "cloudmap.dns.queries");
        using var duration = new MetricCollector<double>(h.Context.Metrics.Meter, "cloudmap.dns.duration");
        h.Dns.InjectFault(CloudMapDiscovery.Testing.DnsFault.Drop());
        using var client = h.CreateClient();

        await ((Func<Task>)(() => client.GetStringAsync(h.Url()))).Should().ThrowAsync<HttpRequestException>();

        Sum(queries, ("dns.question.type", "a"), ("error.type", "timeout")).Should().Be(1);
        duration.GetMeasurementSnapshot().Should().ContainSingle()
            .Which.Value.Should().BeGreaterThanOrEqualTo(0.29, "a lookup that timed out took the DNS timeout, not 0 s");
    }

    [Fact]
    public async Task A_request_no_task_accepts_counts_as_failure_and_one_DNS_cannot_answer_as_dns_error()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        using var requests = new MetricCollector<long>(h.Context.Metrics.Meter, "cloudmap.requests");
        using var client = h.CreateClient();
        h.Dns.SetAddresses("broken", DiscoveryHarness.RecordTtl, h.Fleet.Addresses);
        h.Dns.InjectFault(CloudMapDiscovery.Testing.DnsFault.ServFail(), name: "broken");
        await h.Fleet.KillAsync(0);
        await h.Fleet.KillAsync(1);

        await ((Func<Task>)(() => client.GetStringAsync(h.Url()))).Should().ThrowAsync<HttpRequestException>();
        await ((Func<Task>)(() => client.GetStringAsync(h.Url(host: "broken.internal")))).Should().ThrowAsync<HttpRequestException>();

        Sum(requests, ("server.address", Service), ("cloudmap.request.outcome", "failure")).Should().Be(1);
        Sum(requests, ("server.address", "broken.internal"), ("cloudmap.request.outcome", "dns_error")).Should().Be(1);
        requests.GetMeasurementSnapshot().Should().HaveCount(2, "one outcome per request");
    }

    private static double Sum<T>(MetricCollector<T> collector, params (string Key, string Value)[] tags)
        where T : struct
        => collector.GetMeasurementSnapshot()
            .Where(m => tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))
            .Sum(m => Convert.ToDouble(m.Value, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Below discovery (wrapping the primary handler): a bug in a handler of the user's own, for one path.</summary>
    private sealed class ThrowingOnPathHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => request.RequestUri!.AbsolutePath == "/throw" ? throw new InvalidOperationException("a bug below") : base.SendAsync(request, cancellationToken);
    }
}
