using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// A UDP reply that matches the query (ID and question) but cannot be read, or is cut short without the
/// TC bit, is asked again over TCP before the attempt counts as failed; replies that do not match stay ignored.
/// And a caller who cancels while a reply is on its way gets <see cref="OperationCanceledException"/>, not the reply.
/// </summary>
[Collection(DnsTimingGroup.Name)]
public class UnreadableReplyTests
{
    private const string NoResolvConf = "/nonexistent/cloudmap-tests/resolv.conf";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private static readonly IPAddress[] Tasks = [IPAddress.Parse("127.0.0.6"), IPAddress.Parse("127.0.0.7")];

    [Theory]
    [InlineData(DnsMalformation.CountTooLarge)]
    [InlineData(DnsMalformation.CompressionLoop)]
    [InlineData(DnsMalformation.PointerOutOfRange)]
    [InlineData(DnsMalformation.TruncatedRecord)]
    public async Task An_unreadable_UDP_reply_is_asked_again_over_TCP(DnsMalformation malformation)
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.Malformed(malformation), count: 1); // the UDP reply only

        var result = await Resolver(server.EndPoint).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Transport.Should().Be(DnsTransport.Tcp);
        result.Server.Should().Be(server.EndPoint);
        result.Addresses.Select(a => a.Address).Should().Equal(Tasks);
        (server.QueryCount, server.TcpQueryCount).Should().Be((2, 1));
    }

    [Fact]
    public async Task A_reply_cut_short_without_TC_is_asked_again_over_TCP()
    {
        await using var server = await StartWithNameService();
        var whole = WireBuilder.Reply().Question("name.internal", DnsRecordType.A).A("name.internal", "127.0.0.6").A("name.internal", "127.0.0.7").ToArray();
        server.InjectFault(DnsFault.RawReply(whole.AsSpan(0, whole.Length - 5)), count: 1);

        var result = await Resolver(server.EndPoint).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Transport.Should().Be(DnsTransport.Tcp);
        result.Addresses.Select(a => a.Address).Should().Equal(Tasks);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Replies_that_do_not_match_the_query_are_ignored_not_retried_over_TCP(bool wrongId)
    {
        await using var server = await StartWithNameService();
        server.InjectFault(wrongId ? DnsFault.WrongId() : DnsFault.WrongQuestion());

        // A timeout long enough for the ignored reply to arrive first even on a busy machine: the detail proves it did.
        var act = async () => await Resolver(server.EndPoint, TimeSpan.FromSeconds(1)).QueryAsync("name.internal", DnsRecordType.A);

        var attempt = (await act.Should().ThrowAsync<DnsResolutionException>()).Which.Attempts.Should().ContainSingle().Subject;
        attempt.Outcome.Should().Be(DnsAttemptOutcome.Timeout);
        attempt.Detail.Should().Contain("ignored 1 reply(ies)");
        server.TcpQueryCount.Should().Be(0);
    }

    [Fact]
    public async Task Without_TCP_the_attempt_fails_naming_the_unreadable_reply_and_the_refused_connection()
    {
        await using var dns = HostileResponder.Start(q => q.Reply().RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 1, 1)).ToArray(), tcp: false);

        var act = async () => await Resolver(dns.EndPoint).QueryAsync("name.internal", DnsRecordType.A);

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        var attempt = ex.Attempts.Should().ContainSingle().Subject;
        (attempt.Outcome, attempt.Transport).Should().Be((DnsAttemptOutcome.MalformedReply, DnsTransport.Tcp));
        attempt.Detail.Should().Contain("an A record has 5 bytes of data").And.Contain("over TCP: connection refused");
    }

    [Fact]
    public async Task The_TCP_reply_decides_the_outcome_when_there_is_one()
    {
        await using var dns = HostileResponder.Start(q => q.Tcp
            ? q.Reply(rcode: 2).ToArray()
            : q.Reply().Counts(1, 3, 0, 0).ToArray());

        var act = async () => await Resolver(dns.EndPoint).QueryAsync("name.internal", DnsRecordType.A);

        var attempt = (await act.Should().ThrowAsync<DnsResolutionException>()).Which.Attempts.Should().ContainSingle().Subject;
        attempt.Outcome.Should().Be(DnsAttemptOutcome.ServerFailure);
        attempt.Detail.Should().StartWith("the UDP reply could not be read (").And.EndWith("over TCP: SERVFAIL");
    }

    [Fact]
    public async Task A_caller_who_cancels_while_the_reply_is_on_its_way_gets_no_answer()
    {
        // The server cancels the caller's token, then sends a good reply: whichever the resolver sees first, the
        // caller gave up, and gets OperationCanceledException rather than a late answer.
        using var caller = new CancellationTokenSource();
        await using var dns = HostileResponder.Start(q =>
        {
            caller.Cancel();
            return q.Reply().RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 1)).ToArray();
        });

        var act = async () => await Resolver(dns.EndPoint).QueryAsync("name.internal", DnsRecordType.A, caller.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        dns.Queries.Should().ContainSingle();
    }

    private static async Task<DnsTestServer> StartWithNameService()
    {
        var server = await DnsTestServer.StartAsync();
        server.SetAddresses("name", Ttl, Tasks);
        return server;
    }

    private static DnsResolver Resolver(IPEndPoint server, TimeSpan? timeout = null)
        => new(new DnsResolverOptions { ResolvConfPath = NoResolvConf, Timeout = timeout ?? TimeSpan.FromSeconds(5), Attempts = 1, NameServers = { server.ToString() } });
}
