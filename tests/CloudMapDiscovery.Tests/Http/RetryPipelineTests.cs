using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using CloudMapDiscovery.Http;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>Retries on another address run in Polly's retry strategy, which starts at the first retry: its telemetry shows each attempt it made.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class RetryPipelineTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_request_to_dead_tasks_makes_exactly_MaxAttempts_attempts_each_on_another_address(int maxAttempts)
    {
        await using var h = await DiscoveryHarness.StartAsync(4, o => o.MaxAttempts = maxAttempts);
        for (var i = 0; i < 4; i++)
        {
            await h.Fleet.KillAsync(i);
        }

        using var client = h.CreateClient();
        var failed = async () => await client.GetStringAsync(h.Url());

        var error = (await failed.Should().ThrowAsync<HttpRequestException>()).Which;
        var tried = h.Fleet.Addresses.Select(a => a.ToString()).Count(a => error.Message.Contains(a + ":", StringComparison.Ordinal));
        tried.Should().Be(maxAttempts, "one attempt per address, as many as MaxAttempts: {0}", error.Message);
        h.Snapshot().Endpoints.Count(e => e.ConsecutiveFailures == 1).Should().Be(maxAttempts, "every failed attempt, the last one too, is held against its address");
    }

    [Fact]
    public async Task Each_retry_is_an_attempt_of_the_CloudMapDiscovery_pipeline_for_the_client()
    {
        // Polly's meter is static (one per process); its measurements carry the pipeline and the client's name.
        using var attempts = new MetricCollector<double>(null, "Polly", "resilience.polly.strategy.attempt.duration");
        await using var h = await DiscoveryHarness.StartAsync(3, o => o.MaxAttempts = 3);
        await h.Fleet.KillAsync(0);
        await h.Fleet.KillAsync(1);
        using var client = h.CreateClient();

        // Round robin from a random start: within three requests one starts on a dead task and is retried elsewhere.
        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync(h.Url(), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        var retries = attempts.GetMeasurementSnapshot()
            .Where(e => Equals(e.Tags.GetValueOrDefault("pipeline.instance"), DiscoveryHarness.Client))
            .ToList();
        retries.Should().NotBeEmpty("a retry on another address is an attempt of Polly's pipeline");
        retries.Should().OnlyContain(e => Equals(e.Tags["pipeline.name"], RetryPipeline.PipelineName) && Equals(e.Tags["strategy.name"], RetryPipeline.StrategyName));
        h.Fleet.Hits(2).Should().Be(3, "every request ended on the one live task");
    }
}
