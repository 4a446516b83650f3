using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Discovery;

public sealed class SingleFlightTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Thousand_requests_on_a_cold_name_wait_for_one_query()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1, 2, 3);
        h.HoldAnswers();
        var entry = h.Entry();

        var gets = Enumerable.Range(0, 1_000).Select(_ => entry.GetAsync(TestContext.Current.CancellationToken).AsTask()).ToList();

        gets.Should().OnlyContain(t => !t.IsCompleted, "a cold name has nothing to serve until DNS answers");
        await h.ReleaseAnswersAsync(held: 1);
        var sets = await Task.WhenAll(gets).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        sets.Distinct().Should().ContainSingle("every waiter gets the one answer");
        sets[0].Endpoints.Should().HaveCount(3);
        h.AQueries.Should().Be(1);
        h.Server.QueryCount.Should().Be(1);
    }

    [Fact]
    public async Task Thousand_concurrent_requests_from_many_threads_on_a_cold_name_cause_one_query()
    {
        // No held answer here: loopback DNS answers in well under a millisecond, so many callers arrive after the
        // first query has already completed. They must take its answer, not ask again.
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1, 2, 3);
        var entry = h.Entry();
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            var mine = new List<EndpointSet>();
            for (var i = 0; i < 125; i++)
            {
                mine.Add(await entry.GetAsync(TestContext.Current.CancellationToken));
            }

            return mine;
        })).ToList();

        start.Set();
        var sets = (await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).SelectMany(s => s).ToList();

        sets.Should().HaveCount(1_000);
        sets.Distinct().Should().ContainSingle();
        h.AQueries.Should().Be(1);
    }

    [Fact]
    public async Task Caller_that_found_no_answer_just_before_the_refresh_completed_takes_that_answer_instead_of_asking_again()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        var entry = h.Entry();

        // The cache counts a miss after a caller found no usable answer and before it joins or starts a refresh;
        // the listener parks the second caller right there until the first caller's refresh has completed.
        var lateCallerLooked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var letLateCallerGo = new ManualResetEventSlim();
        var misses = 0;
        using var listener = InstrumentListener.Start(h.Registry.Metrics.Meter, "cloudmap.cache.lookups", (_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "cloudmap.cache.result" && (string?)tag.Value == "miss" && Interlocked.Increment(ref misses) == 2)
                {
                    lateCallerLooked.SetResult();
                    letLateCallerGo.Wait(TimeSpan.FromSeconds(10));
                }
            }
        });

        h.HoldAnswers();
        var first = entry.GetAsync(TestContext.Current.CancellationToken).AsTask();
        var late = Task.Run(() => entry.GetAsync(TestContext.Current.CancellationToken).AsTask());
        await lateCallerLooked.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await h.ReleaseAnswersAsync(held: 1);
        var answer = await first.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await DiscoveryHarness.Settle(entry);
        letLateCallerGo.Set();

        (await late.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeSameAs(answer);
        await DiscoveryHarness.Settle(entry);
        h.AQueries.Should().Be(1, "the late caller must take the answer that just arrived");
    }

    [Fact]
    public async Task A_and_AAAA_service_asks_one_A_and_one_AAAA_question_for_a_thousand_requests()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.Server.AddAddress("name", DiscoveryHarness.Ip(1), Ttl);
        h.Server.AddAddress("name", System.Net.IPAddress.Parse("::1"), Ttl);
        h.HoldAnswers();
        var entry = h.Entry(types: DiscoveryRecordTypes.AAndAaaa);

        var gets = Enumerable.Range(0, 1_000).Select(_ => Task.Run(() => entry.GetAsync(TestContext.Current.CancellationToken).AsTask())).ToList();
        await h.ReleaseAnswersAsync(held: 2);
        var sets = await Task.WhenAll(gets).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        sets.Distinct().Should().ContainSingle();
        sets[0].Endpoints.Select(e => e.Address.Address.ToString()).Should().BeEquivalentTo(["127.0.0.1", "::1"]);
        h.Server.GetQueryCount(DiscoveryHarness.Host, DnsRecordType.A).Should().Be(1);
        h.Server.GetQueryCount(DiscoveryHarness.Host, DnsRecordType.AAAA).Should().Be(1);
        h.Server.QueryCount.Should().Be(2);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_shared_query()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        h.HoldAnswers();
        var entry = h.Entry();
        using var cts = new CancellationTokenSource();

        var impatient = entry.GetAsync(cts.Token).AsTask();
        var patient = entry.GetAsync(TestContext.Current.CancellationToken).AsTask();
        await cts.CancelAsync();

        await impatient.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        await h.ReleaseAnswersAsync(held: 1);
        (await patient.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Endpoints.Should().ContainSingle();
        h.AQueries.Should().Be(1);
    }

    [Fact]
    public async Task Different_names_and_record_types_are_separate_entries()
    {
        await using var h = await DiscoveryHarness.StartAsync();
        h.SetAddresses(Ttl, 1);
        h.Server.AddAddress("other", DiscoveryHarness.Ip(2), Ttl);

        var a = await h.Entry().GetAsync(TestContext.Current.CancellationToken);
        var other = await h.Entry("other.internal").GetAsync(TestContext.Current.CancellationToken);

        h.Entry().Should().BeSameAs(h.Entry());
        h.Entry(types: DiscoveryRecordTypes.Aaaa).Should().NotBeSameAs(h.Entry());
        DiscoveryHarness.Texts(a).Should().Equal("127.0.0.1");
        DiscoveryHarness.Texts(other).Should().Equal("127.0.0.2");
    }
}
