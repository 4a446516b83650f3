using System.Net;
using System.Net.Security;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>Tasks whose connects succeed but whose answers fail: ejected for their responses, re-admitted only with proof.</summary>
[Collection(HttpTestGroup.Name)]
public sealed class ServerErrorEjectionTests
{
    [Fact]
    public async Task Five_500s_in_a_row_eject_a_task_and_only_a_successful_trial_request_readmits_it()
    {
        var clock = new TestClock();
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            o => (o.BaseEjectionTime, o.MaxEjectionTime) = (TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)),
            services: (s, _) => s.AddSingleton<TimeProvider>(clock));
        using var client = h.CreateClient();
        h.Fleet.Answer(0, 500);

        var statuses = await SendAsync(client, h, 30);

        statuses.Count(s => s == 500).Should().Be(5, "the task is ejected at its fifth 500 in a row; each 500 still went to the caller as it was");
        var sick = h.Endpoint(0);
        sick.State.Should().Be(EndpointState.Ejected);
        sick.EjectionReason.Should().Be("server_errors");

        // Its ejection ends: its connects succeed, but that proves nothing; it waits for one trial request.
        clock.Advance(TimeSpan.FromSeconds(12));
        h.Endpoint(0).AwaitingTrial.Should().BeTrue();
        h.Endpoint(0).State.Should().NotBe(EndpointState.Healthy);

        // Still broken: the trial (the very next request) fails, and the task is ejected again, for longer.
        var trial = await SendAsync(client, h, 10);
        trial.Count(s => s == 500).Should().Be(1, "exactly one request is the trial");
        trial[0].Should().Be(500, "the first request after the ejection ends is the trial");
        h.Endpoint(0).State.Should().Be(EndpointState.Ejected);
        (h.Endpoint(0).EjectedUntil - clock.GetUtcNow()).Should().BeGreaterThan(TimeSpan.FromSeconds(15), "the second ejection lasts 2 x 10 s (±10 %)");

        // Healed: the next trial re-admits it, and it takes its share again.
        h.Fleet.Answer(0, 0);
        clock.Advance(TimeSpan.FromSeconds(23));
        var before = h.Fleet.Hits(0);
        (await SendAsync(client, h, 30)).Should().AllSatisfy(s => s.Should().Be(200));
        h.Fleet.Hits(0).Should().BeInRange(before + 10, before + 11, "the trial plus its round-robin share");
        h.Endpoint(0).State.Should().Be(EndpointState.Healthy);
        h.Endpoint(0).EjectionReason.Should().BeNull();
    }

    [Fact]
    public async Task A_4xx_never_counts_against_a_task()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        using var client = h.CreateClient();
        h.Fleet.Answer(0, 404);

        var statuses = await SendAsync(client, h, 20);

        statuses.Count(s => s == 404).Should().Be(10);
        h.Endpoint(0).State.Should().Be(EndpointState.Healthy);
        h.Endpoint(0).ConsecutiveFailures.Should().Be(0);
    }

    [Fact]
    public async Task At_most_MaxEjectionPercent_of_the_tasks_are_out_for_their_responses()
    {
        await using var h = await DiscoveryHarness.StartAsync(2);
        using var client = h.CreateClient();
        h.Fleet.Answer(0, 500);
        h.Fleet.Answer(1, 500);

        var statuses = await SendAsync(client, h, 40);

        statuses.Should().AllSatisfy(s => s.Should().Be(500), "every task is broken: the answers are what they are");
        var endpoints = h.Snapshot().Endpoints;
        endpoints.Count(e => e.State == EndpointState.Ejected).Should().Be(1, "50 % of two tasks: one may be out, the other stays in rotation");
        endpoints.Single(e => e.State == EndpointState.Healthy).ConsecutiveFailures.Should().BeGreaterThan(5, "its failures are counted, but the budget is spent");
    }

    [Fact]
    public async Task With_HealthCheckPath_a_task_out_for_its_responses_comes_back_when_its_health_check_answers_2xx()
    {
        var clock = new TestClock();
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            o => (o.HealthCheckPath, o.BaseEjectionTime) = ("/health", TimeSpan.FromSeconds(10)),
            services: (s, _) => s.AddSingleton<TimeProvider>(clock));
        using var client = h.CreateClient();
        h.Fleet.Answer(0, 500);
        h.Fleet.AnswerHealth(0, 503);
        await SendAsync(client, h, 15);
        h.Endpoint(0).State.Should().Be(EndpointState.Ejected);

        // The health check fails: ejected again, with no request sent to it.
        clock.Advance(TimeSpan.FromSeconds(12));
        await Poll.UntilAsync(() => h.Fleet.HealthHits(0) == 1 && h.Endpoint(0).State == EndpointState.Ejected, "the first health check failed");
        var hits = h.Fleet.Hits(0);
        await SendAsync(client, h, 10);
        h.Fleet.Hits(0).Should().Be(hits, "no trial request: the health check decides");

        // Healthy again: the next check re-admits it.
        h.Fleet.Answer(0, 0);
        h.Fleet.AnswerHealth(0, 0);
        clock.Advance(TimeSpan.FromSeconds(25));
        await Poll.UntilAsync(() => h.Endpoint(0).State == EndpointState.Healthy, "re-admitted by its health check");
        h.Fleet.HealthHits(0).Should().Be(2);
        (await SendAsync(client, h, 30)).Should().AllSatisfy(s => s.Should().Be(200));
        h.Fleet.Hits(0).Should().Be(hits + 10);
    }

    [Fact]
    public async Task A_TLS_failure_ejects_without_a_connect_readmitting_the_task()
    {
        var clock = new TestClock();
        using var cert = TestCertificate.Create("other.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            services: (s, _) => s.AddSingleton<TimeProvider>(clock),
            client: b => b.ConfigurePrimaryHttpMessageHandler(() => TestCertificate.TrustingOnly(errors, cert)),
            certificate: cert);
        using var client = h.CreateClient();

        for (var i = 0; i < 4; i++)
        {
            await client.Invoking(c => c.GetAsync(h.Url(scheme: "https"), TestContext.Current.CancellationToken)).Should().ThrowAsync<HttpRequestException>();
        }

        var ejected = h.Snapshot().Endpoints.Single(e => e.State == EndpointState.Ejected);
        ejected.EjectionReason.Should().Be("tls");
        h.Snapshot().Endpoints.Count(e => e.State == EndpointState.Ejected).Should().Be(1, "the budget keeps the other in rotation: the fault is the client's, not the tasks'");

        // Its ejection ends: a TCP probe would connect and re-admit it, and the loop would go on forever.
        clock.Advance(TimeSpan.FromSeconds(12));
        var after = h.Snapshot().Endpoints.Single(e => e.Address == ejected.Address);
        after.State.Should().NotBe(EndpointState.Healthy);
        after.AwaitingTrial.Should().BeTrue();
        after.EjectionReason.Should().Be("tls");
    }

    private static async Task<List<int>> SendAsync(HttpClient client, DiscoveryHarness h, int count)
    {
        var statuses = new List<int>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.GetAsync(h.Url(), TestContext.Current.CancellationToken);
            statuses.Add((int)response.StatusCode);
        }

        return statuses;
    }
}
