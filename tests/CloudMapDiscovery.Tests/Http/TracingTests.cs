using System.Diagnostics;
using CloudMapDiscovery.Tests.Infrastructure;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// Each attempt a request makes on a task address is a span of its own (activity source <c>CloudMapDiscovery</c>),
/// under the caller's span, with the HTTP client span of that attempt beneath it. Exported with OpenTelemetry's
/// in-memory exporter, as an application would.
/// </summary>
[Collection(HttpTestGroup.Name)]
public sealed class TracingTests
{
    [Fact]
    public async Task Each_attempt_is_a_span_under_the_caller_naming_its_address_and_the_caller_span_is_left_alone()
    {
        var exported = new SpanLog();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource("CloudMapDiscovery", "System.Net.Http", Caller.Name)
            .AddInMemoryExporter(exported)
            .Build();
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();

        string first;
        using (var call = Caller.StartActivity("first call")!)
        {
            first = await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        }

        await h.Fleet.KillAsync(h.Fleet.IndexOf(first) is var i && i >= 0 ? (i + 1) % 3 : 0); // the next in the rotation
        string retried;
        using (var call = Caller.StartActivity("retried call")!)
        {
            retried = await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        }

        tracing.ForceFlush();
        var spans = exported.Snapshot();
        var calls = spans.Where(a => a.Source.Name == Caller.Name).ToDictionary(a => a.DisplayName);
        calls.Values.Should().OnlyContain(a => a.GetTagItem("cloudmap.endpoint") == null && a.GetTagItem("cloudmap.attempt") == null, "the caller's span is not written on");

        var firstAttempts = Attempts(spans, calls["first call"]);
        firstAttempts.Should().ContainSingle().Which.GetTagItem("network.peer.address").Should().Be(first);
        firstAttempts[0].GetTagItem("server.address").Should().Be(DiscoveryHarness.Host);
        firstAttempts[0].GetTagItem("http.response.status_code").Should().Be(200);
        firstAttempts[0].Status.Should().Be(ActivityStatusCode.Unset);
        spans.Should().Contain(a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == firstAttempts[0].SpanId, "the attempt's HTTP client span is its child");

        var retries = Attempts(spans, calls["retried call"]);
        retries.Should().HaveCount(2, "the first attempt went to the killed task");
        retries.Select(a => a.GetTagItem("cloudmap.attempt")).Should().Equal(1, 2);
        retries[0].Status.Should().Be(ActivityStatusCode.Error);
        retries[0].GetTagItem("error.type").Should().Be("connect");
        retries[1].Status.Should().Be(ActivityStatusCode.Unset);
        retries[1].GetTagItem("network.peer.address").Should().Be(retried);
    }

    [Fact]
    public async Task Each_DNS_lookup_is_a_client_span_with_the_question_the_server_and_the_answer_or_the_error()
    {
        var exported = new SpanLog();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource("CloudMapDiscovery").AddInMemoryExporter(exported).Build();
        await using var h = await DiscoveryHarness.StartAsync(1);
        using var client = h.CreateClient();

        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        h.Dns.InjectFault(CloudMapDiscovery.Testing.DnsFault.ServFail());
        await ((Func<Task>)(() => client.GetStringAsync(h.Url(host: "down.internal")))).Should().ThrowAsync<HttpRequestException>();

        // The source is process-wide: tests running beside this one look up the same name on their own servers.
        tracing.ForceFlush();
        var lookups = exported.Snapshot()
            .Where(a => a.Source.Name == "CloudMapDiscovery" && a.Kind == ActivityKind.Client && Equals(a.GetTagItem("server.port"), h.Dns.EndPoint.Port))
            .ToList();
        var answered = lookups.First(a => Equals(a.GetTagItem("dns.question.name"), DiscoveryHarness.Host));
        answered.DisplayName.Should().Be("DNS a");
        answered.GetTagItem("dns.question.type").Should().Be("a");
        answered.GetTagItem("dns.response_code").Should().Be("noerror");
        answered.GetTagItem("server.address").Should().Be(h.Dns.EndPoint.Address.ToString());
        answered.GetTagItem("server.port").Should().Be(h.Dns.EndPoint.Port);
        answered.GetTagItem("network.transport").Should().Be("udp");
        var failed = lookups.Single(a => Equals(a.GetTagItem("dns.question.name"), "down.internal"));
        failed.Status.Should().Be(ActivityStatusCode.Error);
        failed.GetTagItem("error.type").Should().Be("servfail");
        failed.GetTagItem("server.address").Should().Be(h.Dns.EndPoint.Address.ToString(), "the span names the server that failed it");
        failed.StatusDescription.Should().Contain("down.internal").And.Contain("SERVFAIL");
        lookups.Should().OnlyContain(a => a.ParentSpanId == default, "one lookup serves every waiting request: it is a trace of its own");
    }

    private static readonly ActivitySource Caller = new("CloudMapDiscovery.Tests.Caller");

    private static List<Activity> Attempts(Activity[] exported, Activity call)
        => [.. exported.Where(a => a.OperationName == "CloudMapDiscovery.Attempt" && a.ParentSpanId == call.SpanId).OrderBy(a => a.StartTimeUtc)];
}
