using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// The handler's shortcuts keep their promises: the entry it remembers for the last host, and the first attempt
/// that completes without a state machine when the handlers below answer synchronously.
/// </summary>
[Collection(HttpTestGroup.Name)]
public sealed class HotPathTests
{
    [Fact]
    public async Task One_client_calling_two_services_in_turn_sends_each_request_to_its_own_service()
    {
        await using var h = await DiscoveryHarness.StartAsync(4);
        h.Dns.SetAddresses("name", DiscoveryHarness.RecordTtl, h.Fleet.Addresses[0], h.Fleet.Addresses[1]);
        h.Dns.SetAddresses("other", DiscoveryHarness.RecordTtl, h.Fleet.Addresses[2], h.Fleet.Addresses[3]);
        using var client = h.CreateClient();
        string[] name = [h.Fleet.Addresses[0].ToString(), h.Fleet.Addresses[1].ToString()];
        string[] other = [h.Fleet.Addresses[2].ToString(), h.Fleet.Addresses[3].ToString()];

        for (var i = 0; i < 10; i++)
        {
            (await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken)).Should().BeOneOf(name);
            (await client.GetStringAsync(h.Url(host: "other.internal"), TestContext.Current.CancellationToken)).Should().BeOneOf(other);
            (await client.GetStringAsync(h.Url(host: "NAME.Internal"), TestContext.Current.CancellationToken)).Should().BeOneOf(name, "host names are case-insensitive");
            (await client.GetStringAsync(new Uri($"http://{h.Fleet.Addresses[3]}:{h.Fleet.Port}/"), TestContext.Current.CancellationToken)).Should().Be(other[1], "an IP literal in between is left alone");
        }

        h.Fleet.Hits(0).Should().Be(10);
        h.Fleet.Hits(1).Should().Be(10);
        h.Fleet.Hits(2).Should().Be(5);
        h.Fleet.Hits(3).Should().Be(15);
        h.Dns.GetQueryCount("name").Should().Be(1);
        h.Dns.GetQueryCount("other").Should().Be(1);
    }

    [Fact]
    public async Task A_short_name_a_trailing_dot_and_the_full_name_in_turn_all_reach_the_one_service()
    {
        await using var h = await DiscoveryHarness.StartAsync(2, o => o.ServiceDiscoveryDomain = "internal");
        using var client = h.CreateClient();
        var tasks = h.Fleet.Addresses.Select(a => a.ToString()).ToArray();

        for (var i = 0; i < 4; i++)
        {
            (await client.GetStringAsync(new Uri($"http://name:{h.Fleet.Port}/"), TestContext.Current.CancellationToken)).Should().BeOneOf(tasks);
            (await client.GetStringAsync(h.Url(host: "name.internal."), TestContext.Current.CancellationToken)).Should().BeOneOf(tasks);
            (await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken)).Should().BeOneOf(tasks);
        }

        h.Fleet.TotalHits.Should().Be(12);
        h.Fleet.Hits(0).Should().Be(6, "one round robin for the service, whichever way its name is written");
        h.Dns.GetQueryCount("name").Should().Be(1);
        h.Registry.Diagnostics.GetSnapshot().Should().ContainSingle().Which.Host.Should().Be(DiscoveryHarness.Host);
    }

    [Fact]
    public async Task A_synchronous_answer_counts_as_the_requests_outcome_and_a_server_error_against_its_endpoint()
    {
        var statuses = new StatusByAddressHandler();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            services: (s, dns) => s.AddHttpClient("gateway")
                .ConfigurePrimaryHttpMessageHandler(() => statuses)
                .AddCloudMapDiscovery(o =>
                {
                    o.NameServers.Add(dns.EndPoint.ToString());
                }));
        using var client = h.CreateClient("gateway");
        var sick = h.Fleet.Addresses[0].ToString();
        statuses.Status[sick] = HttpStatusCode.ServiceUnavailable;
        var outcomes = new List<string>();
        using var listener = InstrumentListener.Start(h.Context.Metrics.Meter, "cloudmap.requests", (_, _, tags, _) =>
        {
            lock (outcomes)
            {
                outcomes.Add((string)tags.ToArray().Single(t => t.Key == "cloudmap.request.outcome").Value!);
            }
        });

        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync(h.Url(), TestContext.Current.CancellationToken);
            codes.Add(response.StatusCode);
        }

        codes.Should().BeEquivalentTo([HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], "a response is the answer, whatever its status");
        outcomes.Should().Equal("success", "success");
        h.Registry.Diagnostics.GetSnapshot().Single().Endpoints.Single(e => e.Address == sick).ConsecutiveFailures.Should().Be(1, "a 5xx counts against its task (ConsecutiveServerErrors)");
        h.Registry.Diagnostics.GetSnapshot().Single().Endpoints.Single(e => e.Address != sick).ConsecutiveFailures.Should().Be(0);
    }

    [Fact]
    public async Task A_name_evicted_while_a_handler_remembers_it_is_looked_up_again()
    {
        var clock = new TestClock();
        await using var h = await DiscoveryHarness.StartAsync(
            2,
            o => o.IdleTimeout = TimeSpan.FromSeconds(30),
            services: (s, _) => s.AddSingleton<TimeProvider>(clock));
        using var client = h.CreateClient();
        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        h.Dns.GetQueryCount("name").Should().Be(1);

        // Unused for longer than IdleTimeout, though its 60 s answer would still be fresh: the sweeper drops it.
        clock.Advance(TimeSpan.FromSeconds(31));
        h.Registry.Diagnostics.GetSnapshot().Should().BeEmpty();

        // The same handler (its lifetime is 2 minutes) must not keep serving from the dropped entry.
        await client.GetStringAsync(h.Url(), TestContext.Current.CancellationToken);
        h.Dns.GetQueryCount("name").Should().Be(2, "the name starts over in the cache");
        h.Registry.Diagnostics.GetSnapshot().Should().ContainSingle().Which.Host.Should().Be(DiscoveryHarness.Host);
    }

    [Fact]
    public async Task Synchronous_answers_faults_and_throws_from_the_handlers_below_are_routed_retried_and_restored()
    {
        var below = new ScriptedHandler();
        await using var h = await DiscoveryHarness.StartAsync(
            3,
            services: (s, dns) => s.AddHttpClient("scripted")
                .ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler())
                .AddCloudMapDiscovery(o => o.NameServers.Add(dns.EndPoint.ToString()))
                .AddHttpMessageHandler(() => below)); // directly below discovery: its synchronous throws reach the handler as such
        using var client = h.CreateClient("scripted");
        var original = h.Url("/x");
        below.Failures[h.Fleet.Addresses[0].ToString()] = Failure.FaultedTask;
        below.Failures[h.Fleet.Addresses[1].ToString()] = Failure.Throw;

        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, original);
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be($"http://{h.Fleet.Addresses[2]}:{h.Fleet.Port}/x");
            request.RequestUri.Should().BeSameAs(original);
            request.Headers.Host.Should().BeNull();
        }

        below.Seen.Should().OnlyContain(s => s.Host == $"name.internal:{h.Fleet.Port}");
        var endpoints = h.Registry.Diagnostics.GetSnapshot().Single().Endpoints;
        endpoints.Where(e => e.State == EndpointState.Ejected).Select(e => e.Address)
            .Should().BeEquivalentTo([h.Fleet.Addresses[0].ToString(), h.Fleet.Addresses[1].ToString()], "a connect failure ejects, however it was reported");
        below.Seen.Count(s => s.Address == h.Fleet.Addresses[0].ToString()).Should().Be(1, "ejected after its first connect failure");
        below.Seen.Count(s => s.Address == h.Fleet.Addresses[1].ToString()).Should().Be(1);

        // Now the last healthy address throws too. It is the first attempt's only choice, so the synchronous throw
        // meets the first-attempt path, which must turn it into a retry and, at the end, the handler's own error.
        below.Failures[h.Fleet.Addresses[2].ToString()] = Failure.Throw;
        var failed = await ((Func<Task>)(() => client.GetStringAsync(original))).Should().ThrowAsync<HttpRequestException>();
        failed.Which.Message.Should().Contain("failed on every address tried for name.internal").And.Contain($"{h.Fleet.Addresses[2]}:{h.Fleet.Port} (Connection refused");
        below.Seen.Count(s => s.Address == h.Fleet.Addresses[2].ToString()).Should().Be(7);
        h.Registry.Diagnostics.GetSnapshot().Single().Endpoints.Single(e => e.Address == h.Fleet.Addresses[2].ToString()).ConsecutiveFailures.Should().Be(1);
    }

    /// <summary>An in-memory primary that answers at once, with a status chosen by the address the request was sent to.</summary>
    private sealed class StatusByAddressHandler : HttpMessageHandler
    {
        public Dictionary<string, HttpStatusCode> Status { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Task.FromResult(new HttpResponseMessage(Status.GetValueOrDefault(request.RequestUri!.Host, HttpStatusCode.OK)) { RequestMessage = request });
    }

    private enum Failure
    {
        FaultedTask,
        Throw,
    }

    /// <summary>Fails connects to some addresses, synchronously, in one of two ways; passes the rest on.</summary>
    private sealed class ScriptedHandler : DelegatingHandler
    {
        public Dictionary<string, Failure> Failures { get; } = [];

        public List<(string Address, string? Host)> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var address = request.RequestUri!.Host;
            lock (Seen)
            {
                Seen.Add((address, request.Headers.Host));
            }

            if (!Failures.TryGetValue(address, out var failure))
            {
                return base.SendAsync(request, cancellationToken);
            }

            var refused = new HttpRequestException(HttpRequestError.ConnectionError, $"Connection refused ({address})");
            return failure == Failure.Throw ? throw refused : Task.FromException<HttpResponseMessage>(refused);
        }
    }
}
