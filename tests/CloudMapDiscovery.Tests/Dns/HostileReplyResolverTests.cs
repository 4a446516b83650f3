using System.Net;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// Hostile replies at the resolver: names read off the wire are asked for byte for byte (or the attempt fails cleanly),
/// one bad SRV target costs only itself, and whatever a server sends, every public call ends in an answer,
/// <see cref="DnsResolutionException"/> naming the name, type and server, or (the caller's own)
/// <see cref="OperationCanceledException"/>. The replies come from <see cref="HostileResponder"/>, which can send
/// what no real server would.
/// </summary>
[Collection(DnsTimingGroup.Name)]
public class HostileReplyResolverTests
{
    private const string NoResolvConf = "/nonexistent/cloudmap-tests/resolv.conf";
    private static readonly byte[] Internal = "internal"u8.ToArray();
    private static readonly byte[] AllFf = [.. Enumerable.Repeat((byte)0xFF, 63)];
    private static readonly TimeSpan CorpusTimeout = TimeSpan.FromMilliseconds(250);

    private readonly ITestOutputHelper _output;

    public HostileReplyResolverTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_CNAME_target_that_text_must_escape_is_asked_for_byte_for_byte()
    {
        // 63 bytes of 0xFF read as 252 characters of \255, which the old query writer could not write.
        await using var dns = HostileResponder.Start(q =>
            q.Labels[0].AsSpan().SequenceEqual(AllFf) ? q.Reply().RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 9)).ToArray()
            : q.Name == "alias.internal" ? q.Reply().RecordAt(0, 12, DnsRecordType.CNAME, 60, c => c.WireName(AllFf, Internal)).ToArray()
            : null);
        var resolver = Resolver(dns);

        var result = await resolver.QueryAsync("alias.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Addresses.Should().ContainSingle().Which.Address.Should().Be(IPAddress.Parse("10.0.0.9"));
        result.CanonicalName.Should().Be(string.Concat(Enumerable.Repeat(@"\255", 63)) + ".internal");
        dns.Queries.Where(q => q.Type == DnsRecordType.A).Select(q => Convert.ToHexString(q.Question)).Should()
            .Contain(Convert.ToHexString([63, .. AllFf, 8, .. Internal, 0, 0, 1, 0, 1]), "the follow-up query carries the 63 bytes as one label");
        (await resolver.QueryAsync(result.CanonicalName, DnsRecordType.A, TestContext.Current.CancellationToken)).Addresses.Should().ContainSingle("the text form can be asked for again as it is");
    }

    [Fact]
    public async Task A_label_holding_a_dot_is_asked_for_as_one_label()
    {
        // "a.b" as one label was asked for as the literal text a\046b and timed out.
        byte[] dotted = [.. "a.b"u8];
        await using var dns = HostileResponder.Start(q =>
            q.Labels.Count == 2 && q.Labels[0].AsSpan().SequenceEqual(dotted) ? q.Reply().RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 7)).ToArray()
            : q.Name == "alias.internal" ? q.Reply().RecordAt(0, 12, DnsRecordType.CNAME, 60, c => c.WireName(dotted, Internal)).ToArray()
            : null);

        var result = await Resolver(dns).QueryAsync("alias.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.CanonicalName.Should().Be(@"a\046b.internal");
        result.Addresses.Should().ContainSingle().Which.Address.Should().Be(IPAddress.Parse("10.0.0.7"));
    }

    [Fact]
    public async Task One_bad_SRV_target_costs_only_its_own_addresses_and_says_why()
    {
        // No addresses in the reply, so each target is asked for: one answers, one needs escapes, one fails
        // (SERVFAIL), one sends a broken reply over UDP and TCP alike; of the last two, one fails its AAAA question
        // but answers A, and one fails its A question and has no AAAA records.
        byte[][] good = [[.. "good"u8], Internal];
        byte[][] escaped = [AllFf, Internal];
        byte[][] failing = [[.. "failing"u8], Internal];
        byte[][] broken = [[.. "broken"u8], Internal];
        byte[][] v4Only = [[.. "v4only"u8], Internal];
        byte[][] v6Failing = [[.. "v6nodata"u8], Internal];
        await using var dns = HostileResponder.Start(q => q.Name switch
        {
            "svc.internal" => q.Reply()
                .RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(3001).WireName(good))
                .RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(3002).WireName(escaped))
                .RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(3003).WireName(failing))
                .RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(3004).WireName(broken))
                .RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(3005).WireName(v4Only))
                .RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(3006).WireName(v6Failing)).ToArray(),
            "good.internal" when q.Type == DnsRecordType.A => q.Reply().RecordAt(0, 12, DnsRecordType.A, 5, a => a.Raw(10, 0, 0, 1)).ToArray(),
            "failing.internal" => q.Reply(rcode: 2).ToArray(),
            "broken.internal" => q.Reply().RecordAt(0, 12, DnsRecordType.A, 5, a => a.Raw(10, 0, 0, 3, 3)).ToArray(),
            "v4only.internal" when q.Type == DnsRecordType.A => q.Reply().RecordAt(0, 12, DnsRecordType.A, 5, a => a.Raw(10, 0, 0, 4)).ToArray(),
            "v4only.internal" when q.Type == DnsRecordType.AAAA => q.Reply(rcode: 2).ToArray(),
            "v6nodata.internal" when q.Type == DnsRecordType.A => q.Reply(rcode: 2).ToArray(),
            _ when q.Labels[0].AsSpan().SequenceEqual(AllFf) && q.Type == DnsRecordType.A => q.Reply().RecordAt(0, 12, DnsRecordType.A, 5, a => a.Raw(10, 0, 0, 2)).ToArray(),
            _ => q.Reply().ToArray(), // NODATA
        });

        var result = await Resolver(dns).QueryAsync("svc.internal", DnsRecordType.SRV, TestContext.Current.CancellationToken);

        result.Services.Select(s => (s.Port, string.Join(",", s.Addresses.Select(a => a.Address))))
            .Should().Equal((3001, "10.0.0.1"), (3002, "10.0.0.2"), (3003, string.Empty), (3004, string.Empty), (3005, "10.0.0.4"), (3006, string.Empty));

        // An empty list is "no addresses" only when the lookups said so; a failed one is named.
        var errors = result.Services.Select(s => s.TargetError).ToList();
        errors[0].Should().BeNull("A answered and AAAA said NODATA");
        errors[1].Should().BeNull();
        errors[2].Should().Contain("failing.internal (A)").And.Contain("failing.internal (AAAA)").And.Contain("SERVFAIL");
        errors[3].Should().Contain("broken.internal (A)").And.Contain("broken.internal (AAAA)");
        errors[4].Should().BeNull("one family failed, the other gave addresses");
        errors[5].Should().Contain("v6nodata.internal (A)", "A failed and AAAA found none: the target's addresses are unknown");
    }

    [Fact]
    public async Task Every_public_call_with_hostile_replies_ends_in_an_answer_or_DnsResolutionException()
    {
        // Cases run four at a time: a few shapes are ignored by design and cost a timeout each. Outcomes may differ
        // with timing on a busy machine; what is asserted holds for every outcome.
        const int Cases = 120;
        var results = new List<(int Case, string Call, Outcome Outcome)>[Cases];
        await Parallel.ForAsync(0, Cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (seed, _) => results[seed] = await RunCaseAsync(seed));
        var outcomes = new Dictionary<string, int>();
        var problems = new List<string>();
        foreach (var (seed, call, outcome) in results.SelectMany(r => r))
        {
            outcomes[outcome.Kind] = outcomes.GetValueOrDefault(outcome.Kind) + 1;
            if (outcome.Problem is { } problem)
            {
                problems.Add($"case {seed}, {call}: {problem}");
            }
        }

        foreach (var (kind, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            _output.WriteLine($"{kind,-28} {count}");
        }

        problems.Should().BeEmpty();
        outcomes.Keys.Should().Contain(["answer", "DnsResolutionException"], "the corpus must reach both ends");
    }

    private sealed record Outcome(string Kind, string? Problem);

    private static async Task<List<(int Case, string Call, Outcome Outcome)>> RunCaseAsync(int seed)
    {
        await using var dns = HostileResponder.Start(q => HostileReplyCorpus.Reply(q, seed));
        var resolver = Resolver(dns, timeout: CorpusTimeout);
        var searching = Resolver(dns, search: "internal", timeout: CorpusTimeout);
        using var impatient = new CancellationTokenSource();
        if (seed % 6 == 5)
        {
            impatient.CancelAfter(TimeSpan.FromMilliseconds(1 + (seed % 20)));
        }

        (string Call, Task<DnsQueryResult> Task)[] calls =
        [
            ("A", resolver.QueryAsync("name.internal", DnsRecordType.A, impatient.Token).AsTask()),
            ("AAAA", resolver.QueryAsync("name.internal", DnsRecordType.AAAA, impatient.Token).AsTask()),
            ("SRV", resolver.QueryAsync("name.internal", DnsRecordType.SRV, impatient.Token).AsTask()),
            ("A via search", searching.QueryAsync("name", DnsRecordType.A, impatient.Token).AsTask()),
        ];
        var outcomes = new List<(int, string, Outcome)>();
        foreach (var (call, task) in calls)
        {
            outcomes.Add((seed, call, await Classify(task, dns.EndPoint, impatient.Token)));
        }

        return outcomes;
    }

    private static async Task<Outcome> Classify(Task<DnsQueryResult> call, IPEndPoint server, CancellationToken token)
    {
        try
        {
            var result = await call;
            var kept = result.Addresses.Count + result.Services.Sum(s => Math.Max(1, s.Addresses.Count));
            return new("answer", kept > CloudMapDiscovery.Dns.Wire.DnsLimits.MaxRecords ? $"{kept} records (or SRV endpoints) in one answer" : null);
        }
        catch (DnsResolutionException ex)
        {
            // "name.internal", or "name" itself when the search list's last candidate is the failure reported.
            var named = ex.Message.StartsWith("DNS lookup of name", StringComparison.Ordinal) && ex.Message.Contains($"({ex.Type})", StringComparison.Ordinal)
                && ex.Message.Contains(server.ToString(), StringComparison.Ordinal);
            var unexpected = ex.InnerException is not (null or DnsResolutionException);
            return new("DnsResolutionException", unexpected ? $"an unexpected {ex.InnerException!.GetType().Name} inside: {ex.InnerException}"
                : named ? null : $"the message does not name the name, type and server: {ex.Message}");
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return new("OperationCanceledException", null);
        }
#pragma warning disable CA1031 // collecting everything else is the point of the test
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new(ex.GetType().Name, ex.ToString());
        }
    }

    // Where no timeout is expected, a generous one, so that a loaded machine cannot fail the test; the corpus, whose
    // ignored shapes cost a timeout each, uses a short one.
    private static DnsResolver Resolver(HostileResponder dns, string? search = null, TimeSpan? timeout = null)
    {
        var options = new DnsResolverOptions { ResolvConfPath = NoResolvConf, Timeout = timeout ?? TimeSpan.FromSeconds(5), Attempts = 1, NameServers = { dns.EndPoint.ToString() } };
        if (search is not null)
        {
            options.SearchDomains.Add(search);
            options.Ndots = 1;
        }

        return new DnsResolver(options);
    }
}
