using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>The <c>CloudMapDiscovery</c> meter records what the handler did, with tags.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class MetricsTests
{
    [Fact]
    public async Task Requests_retries_ejections_and_DNS_queries_are_recorded_with_tags()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        var meter = h.Context.Metrics.Meter;
        var recorded = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => recorded.Enqueue((i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => recorded.Enqueue((i.Name, v, ToDictionary(tags))));
        listener.Start();
        meter.Name.Should().Be("CloudMapDiscovery");

        using var client = h.CreateClient();
        await client.GetStringAsync(h.Url());
        await h.Fleet.KillAsync(0);
        for (var i = 0; i < 3; i++)
        {
            await client.GetStringAsync(h.Url());
        }

        h.Dns.RemoveName("name");
        await ((Func<Task>)(() => client.GetStringAsync(h.Url(host: "gone.internal")))).Should().ThrowAsync<HttpRequestException>();
        listener.RecordObservableInstruments();

        Sum("cloudmap.requests", ("host", "name.internal"), ("outcome", "success")).Should().Be(3);
        Sum("cloudmap.requests", ("host", "name.internal"), ("outcome", "success_after_retry")).Should().Be(1);
        Sum("cloudmap.requests", ("host", "gone.internal"), ("outcome", "no_instances")).Should().Be(1);
        Sum("cloudmap.retries", ("host", "name.internal")).Should().Be(1);
        Sum("cloudmap.ejections", ("host", "name.internal")).Should().Be(1);
        Sum("cloudmap.dns.queries", ("response_code", "NoError")).Should().Be(1);
        Sum("cloudmap.dns.queries", ("response_code", "NXDomain")).Should().Be(1);
        recorded.Where(r => r.Instrument == "cloudmap.dns.duration").Should().HaveCount(2).And.OnlyContain(r => r.Value >= 0 && r.Value < 5);
        Sum("cloudmap.cache.lookups", ("host", "name.internal"), ("result", "miss")).Should().Be(1);
        Sum("cloudmap.cache.lookups", ("host", "name.internal"), ("result", "hit")).Should().Be(3);
        Sum("cloudmap.endpoints", ("host", "name.internal"), ("state", "ejected")).Should().Be(1);
        Sum("cloudmap.endpoints", ("host", "name.internal"), ("state", "healthy")).Should().Be(2);

        double Sum(string instrument, params (string Key, string Value)[] tags)
            => recorded.Where(r => r.Instrument == instrument && tags.All(t => r.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value))).Sum(r => r.Value);
    }

    [Fact]
    public async Task The_current_activity_is_tagged_with_the_endpoint_that_answered_and_the_attempt_number()
    {
        await using var h = await DiscoveryHarness.StartAsync(3);
        using var client = h.CreateClient();
        using var source = new ActivitySource("CloudMapDiscovery.Tests.Http.Caller");
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, source),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);

        using (var first = source.StartActivity("first")!)
        {
            var answer = await client.GetStringAsync(h.Url());
            first.GetTagItem("cloudmap.endpoint").Should().Be(answer);
            first.GetTagItem("cloudmap.attempt").Should().Be(1);
        }

        h.Fleet.AbortNext = 1;
        using (var retried = source.StartActivity("retried")!)
        {
            var answer = await client.GetStringAsync(h.Url("/flaky"));
            retried.GetTagItem("cloudmap.endpoint").Should().Be(answer.Split(':')[0], "the tags name the attempt that answered");
            retried.GetTagItem("cloudmap.attempt").Should().Be(2);
        }
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            result[tag.Key] = tag.Value;
        }

        return result;
    }
}
