using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.Extensions.Http.Resilience;
using static CloudMapDiscovery.Integration.Tests.Resilience.Compositions;
using CloudMapDiscovery.Tests.Http;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>
/// Request bodies with the standard resilience handler outside discovery: discovery never sends a body again once it
/// may have reached a task, but the standard retry does, unless unsafe methods are excluded; a body streamed from a
/// stream that cannot seek cannot be read twice, so it reaches at most one task.
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class RequestBodyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_POST_that_failed_after_sending_is_sent_again_by_the_standard_retry_unless_unsafe_methods_are_excluded(bool excludeUnsafe)
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o =>
        {
            Retries(o, 2, events);
            if (excludeUnsafe)
            {
#pragma warning disable EXTEXP0001 // experimental in Microsoft.Extensions.Http.Resilience 10.x
                o.Retry.DisableForUnsafeHttpMethods();
#pragma warning restore EXTEXP0001
            }
        }));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/abort", new StringContent("order-1"));

        await call.Should().ThrowAsync<HttpRequestException>();
        var bodies = Enumerable.Range(0, 3).Select(t => h.Tasks.Bodies(t).Length).ToArray();
        if (excludeUnsafe)
        {
            bodies.Order().Should().Equal(0, 0, 1);
            events.Retries.Should().Be(0);
        }
        else
        {
            bodies.Should().Equal([1, 1, 1], "discovery did not re-send the POST, but the standard retry did, to the next task each time");
            events.Retries.Should().Be(2);
        }
    }

    [Fact]
    public async Task A_non_replayable_POST_body_is_sent_once_even_when_the_standard_retry_tries_again()
    {
        var events = new ResilienceEvents();
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2, events)));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/abort", new StreamContent(new NonSeekableStream("order-2")));

        // The standard retry does try twice more, but StreamContent refuses to be read again: each retry fails in its send.
        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        thrown.ToString().Should().Contain("The stream was already consumed");
        events.Retries.Should().Be(2);
        h.Tasks.TotalBodies.Should().Be(1, "the body was read once, by the first task");
        h.Tasks.TotalRequests.Should().Be(1, "neither retry reached a task: each failed while its request was being written");
    }

    [Fact]
    public async Task A_body_that_cannot_be_read_again_is_not_held_against_the_tasks_the_retries_picked()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2)));
        using var client = h.CreateClient();

        var call = () => client.PostAsync("/abort", new StreamContent(new NonSeekableStream("order-3")));

        await call.Should().ThrowAsync<HttpRequestException>();
        var untouched = Enumerable.Range(0, 3).Where(t => h.Tasks.Requests(t) == 0).ToArray();
        untouched.Should().HaveCount(2);
        untouched.Select(h.Endpoint).Should().OnlyContain(e => e.ConsecutiveFailures == 0, "nothing reached these tasks; the body failed on the client");
    }

    [Fact]
    public async Task A_non_replayable_POST_body_goes_to_a_live_task_once_when_a_task_is_dead()
    {
        await using var h = await ResilienceHarness.StartAsync(3, ResilienceOutside(o => Retries(o, 2)));
        using var client = h.CreateClient();
        await h.Tasks.Tasks.KillAsync(0);

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync("/status/200", new StreamContent(new NonSeekableStream(((char)('a' + i)).ToString())), TestContext.Current.CancellationToken);
            response.EnsureSuccessStatusCode();
        }

        h.Tasks.Bodies(1).Concat(h.Tasks.Bodies(2)).Order().Should().Equal("a", "b", "c");
        h.Tasks.TotalBodies.Should().Be(3);
    }
}
