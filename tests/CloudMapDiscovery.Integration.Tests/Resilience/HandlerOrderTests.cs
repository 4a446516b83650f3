using System.Net;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CloudMapDiscovery.Integration.Tests.Resilience.Compositions;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// Discovery goes below the resilience handlers whatever the order, and every other handler keeps its place: one
/// registered before discovery stays above it (sees the name), one registered after it stays below it (sees each
/// attempt's task address), even when a resilience handler is chained after both.
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class HandlerOrderTests
{
    [Fact]
    public async Task A_handler_between_discovery_and_the_resilience_handler_stays_below_discovery()
    {
        var above = new RecordingHandler();
        var below = new RecordingHandler();
        await using var h = await ResilienceHarness.StartAsync(1, (client, addDiscovery) =>
        {
            client.AddHttpMessageHandler(() => above);
            addDiscovery(client);
            client.AddHttpMessageHandler(() => below);
            client.AddStandardResilienceHandler(o => Retries(o, 1));
        });
        using var client = h.CreateClient();

        using var response = await client.GetAsync("/status/200", TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        above.Hosts.Should().Equal(ResilienceHarness.Host);
        below.Hosts.Should().Equal(LoopbackTasks.Address(0).ToString());
    }

    [Fact]
    public async Task The_resilience_handler_ends_up_outside_discovery_and_the_handlers_keep_their_order()
    {
        var first = new RecordingHandler();
        var second = new RecordingHandler();
        await using var h = await ResilienceHarness.StartAsync(1, (client, addDiscovery) =>
        {
            addDiscovery(client);
            client.AddHttpMessageHandler(() => first);
            client.AddHttpMessageHandler(() => second);
            client.AddStandardResilienceHandler(o => Retries(o, 1));
        });

        var chain = Chain(h.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(ResilienceHarness.Client));

        var names = chain.Select(c => c.GetType().Name).ToList();
        var resilience = names.IndexOf("ResilienceHandler");
        var discovery = names.IndexOf("CloudMapDiscoveryHandler");
        resilience.Should().BeGreaterThanOrEqualTo(0).And.BeLessThan(discovery, "the resilience handler is outside discovery: {0}", string.Join(" > ", names));
        chain.IndexOf(first).Should().BeGreaterThan(discovery).And.BeLessThan(chain.IndexOf(second), "handlers registered after discovery stay below it, in their order");
    }

    private static List<HttpMessageHandler> Chain(HttpMessageHandler handler)
    {
        var chain = new List<HttpMessageHandler> { handler };
        while (handler is DelegatingHandler { InnerHandler: { } inner })
        {
            chain.Add(inner);
            handler = inner;
        }

        return chain;
    }

    /// <summary>Records the host of every request that passes it.</summary>
    private sealed class RecordingHandler : DelegatingHandler
    {
        public List<string> Hosts { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Hosts.Add(request.RequestUri!.Host);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
