using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// <see cref="DnsResolver"/> against in-process <see cref="DnsTestServer"/>s on loopback: answers, follow-up
/// queries, TCP fallback, every injected fault, search domains, rotation and cancellation. Where a timeout is the
/// behaviour under test, a manual clock runs it out once the query has reached the server; only a stray reply that
/// must arrive before the timeout needs real time (see <see cref="StrayReplyTimeout"/>).
/// </summary>
[Collection(DnsTimingGroup.Name)]
public class ResolverFaultTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(300);

    // A reply that does not match is ignored on arrival, and nothing outside the resolver sees it arrive: the attempt
    // waits in real time, long enough for the reply to come on a loaded machine.
    private static readonly TimeSpan StrayReplyTimeout = TimeSpan.FromSeconds(1);

    // Where no timeout is expected, a generous one, so that a loaded machine cannot fail the test.
    private static readonly TimeSpan LongTimeout = TimeSpan.FromSeconds(5);
    private static readonly IPAddress Task1 = IPAddress.Parse("127.0.0.6");
    private static readonly IPAddress Task2 = IPAddress.Parse("127.0.0.7");

    [Fact]
    public async Task A_answer()
    {
        await using var server = await StartWithNameService();
        var resolver = Resolver(server);

        var result = await resolver.QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Name.Should().Be("name.internal");
        result.Type.Should().Be(DnsRecordType.A);
        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.Addresses.Select(a => a.Address).Should().Equal(Task1, Task2);
        result.Addresses.Should().OnlyContain(a => a.Ttl == Ttl && a.Name == "name.internal");
        result.Server.Should().Be(server.EndPoint);
        result.Transport.Should().Be(DnsTransport.Udp);
        result.IsNegative.Should().BeFalse();
        result.Ttl.Should().Be(Ttl);
        server.GetQueryCount("name", DnsRecordType.A).Should().Be(1);
    }

    [Fact]
    public async Task AAAA_answer()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddAddress("v6", IPAddress.IPv6Loopback, TimeSpan.FromSeconds(60));
        server.AddAddress("v6", IPAddress.Parse("fd00::1"), TimeSpan.FromSeconds(30));

        var result = await Resolver(server).QueryAsync("v6.internal", DnsRecordType.AAAA, TestContext.Current.CancellationToken);

        result.Addresses.Select(a => (a.Address, a.Type)).Should().Equal((IPAddress.IPv6Loopback, DnsRecordType.AAAA), (IPAddress.Parse("fd00::1"), DnsRecordType.AAAA));
        result.Ttl.Should().Be(TimeSpan.FromSeconds(30), "the answer may be cached for its smallest TTL");
    }

    [Fact]
    public async Task A_name_with_only_AAAA_records_is_NODATA_for_A()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddAddress("v6", IPAddress.IPv6Loopback, Ttl);
        server.NegativeTtl = TimeSpan.FromSeconds(30);

        var result = await Resolver(server).QueryAsync("v6.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.IsNegative.Should().BeTrue();
        result.NegativeTtl.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task NXDOMAIN_is_an_answer_and_no_other_server_is_asked()
    {
        await using var first = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var second = await StartWithNameService();

        var result = await Resolver(first, second).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.ResponseCode.Should().Be(DnsResponseCode.NXDomain);
        result.IsNegative.Should().BeTrue();
        result.NegativeTtl.Should().Be(TimeSpan.FromSeconds(900));
        result.Ttl.Should().Be(TimeSpan.FromSeconds(900));
        result.Server.Should().Be(first.EndPoint);
        second.QueryCount.Should().Be(0);
    }

    [Fact]
    public async Task SRV_answer_with_target_addresses_in_the_additional_section()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddService("svc", 1, 1, 3000, "task-a.svc", Ttl);
        server.AddService("svc", 1, 1, 3001, "task-b.svc", Ttl);
        server.AddAddress("task-a.svc", IPAddress.Parse("127.0.0.11"), Ttl);
        server.AddAddress("task-b.svc", IPAddress.Parse("127.0.0.12"), Ttl);

        var result = await Resolver(server).QueryAsync("svc.internal", DnsRecordType.SRV, TestContext.Current.CancellationToken);

        result.Addresses.Should().BeEmpty();
        result.Services.Select(s => (s.Target, s.Port, s.Addresses.Single().Address.ToString()))
            .Should().BeEquivalentTo(new[] { ("task-a.svc.internal", (ushort)3000, "127.0.0.11"), ("task-b.svc.internal", (ushort)3001, "127.0.0.12") });
        server.GetQueryCount("task-a.svc").Should().Be(0, "the additional section made a follow-up query unnecessary");
    }

    [Fact]
    public async Task SRV_target_without_additional_addresses_is_resolved_by_follow_up_queries()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.IncludeServiceTargetAddresses = false;
        server.AddService("svc", 1, 1, 3000, "task-a.svc", Ttl);
        server.AddAddress("task-a.svc", IPAddress.Parse("127.0.0.11"), TimeSpan.FromSeconds(5));
        server.AddAddress("task-a.svc", IPAddress.IPv6Loopback, TimeSpan.FromSeconds(5));

        var result = await Resolver(server).QueryAsync("svc.internal", DnsRecordType.SRV, TestContext.Current.CancellationToken);

        var service = result.Services.Should().ContainSingle().Subject;
        service.Target.Should().Be("task-a.svc.internal");
        service.Addresses.Select(a => a.Address).Should().Equal(IPAddress.Parse("127.0.0.11"), IPAddress.IPv6Loopback);
        service.TargetError.Should().BeNull();
        result.Ttl.Should().Be(TimeSpan.FromSeconds(5));
        server.GetQueryCount("task-a.svc", DnsRecordType.A).Should().Be(1);
        server.GetQueryCount("task-a.svc", DnsRecordType.AAAA).Should().Be(1);
    }

    [Fact]
    public async Task An_SRV_target_that_cannot_be_resolved_keeps_an_empty_address_list()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddService("svc", 1, 1, 3000, "gone.svc", Ttl);

        var result = await Resolver(server).QueryAsync("svc.internal", DnsRecordType.SRV, TestContext.Current.CancellationToken);

        var service = result.Services.Should().ContainSingle().Subject;
        service.Addresses.Should().BeEmpty();
        service.TargetError.Should().BeNull("no such name is an answer: the target has no addresses");
    }

    [Fact]
    public async Task An_SRV_target_of_the_root_means_no_service_and_is_not_asked_for()
    {
        // RFC 2782: a target of "." means the service is decidedly not available at this domain.
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var reply = WireBuilder.Reply().Question("svc.internal", DnsRecordType.SRV).Srv("svc.internal", 0, 0, 0, string.Empty).ToArray();
        server.InjectFault(DnsFault.RawReply(reply), name: "svc");

        var result = await WithoutTimeouts(FrozenClockResolver(server).QueryAsync("svc.internal", DnsRecordType.SRV, TestContext.Current.CancellationToken));

        var service = result.Services.Should().ContainSingle().Subject;
        service.Target.Should().BeEmpty();
        service.Addresses.Should().BeEmpty();
        service.TargetError.Should().BeNull("the root is a real \"not available\", not a failure");
        server.QueryCount.Should().Be(1, "there is nothing to resolve");
        result.Elapsed.Should().Be(TimeSpan.Zero, "the answer came while the resolver's clock stood still: no timeout was waited out");
    }

    [Fact]
    public async Task A_reply_to_a_question_about_the_root_is_recognised()
    {
        // A CNAME to "." (a broken server) leads to a question about the root; the server's REFUSED must end
        // that attempt at once rather than be ignored as "not matching" until the timeout.
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var reply = WireBuilder.Reply().Question("alias.internal", DnsRecordType.A).Cname("alias.internal", string.Empty).ToArray();
        server.InjectFault(DnsFault.RawReply(reply), name: "alias");

        var act = async () => await WithoutTimeouts(FrozenClockResolver(server).QueryAsync("alias.internal", DnsRecordType.A));

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>(NoTimeoutCanFire)).Which;
        ex.Attempts.Should().ContainSingle().Which.Outcome.Should().Be(DnsAttemptOutcome.Refused);
    }

    [Fact]
    public async Task CNAME_chain_inside_the_zone_is_answered_in_one_query()
    {
        await using var server = await StartWithNameService();
        server.SetCanonicalName("alias1", "alias2", TimeSpan.FromSeconds(30));
        server.SetCanonicalName("alias2", "name", TimeSpan.FromSeconds(3));

        var result = await Resolver(server).QueryAsync("alias1.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.CanonicalNames.Select(c => (c.Name, c.Target)).Should().Equal(("alias1.internal", "alias2.internal"), ("alias2.internal", "name.internal"));
        result.CanonicalName.Should().Be("name.internal");
        result.Addresses.Select(a => a.Address).Should().Equal(Task1, Task2);
        result.Ttl.Should().Be(TimeSpan.FromSeconds(3));
        server.QueryCount.Should().Be(1);
    }

    [Fact]
    public async Task CNAME_to_an_out_of_zone_name_is_followed_by_another_query()
    {
        await using var inside = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        inside.SetCanonicalName("out", "host.elsewhere.", TimeSpan.FromSeconds(30));
        await using var elsewhere = await DnsTestServer.StartAsync("elsewhere", cancellationToken: TestContext.Current.CancellationToken);
        elsewhere.AddAddress("host", IPAddress.Parse("127.0.0.21"), Ttl);

        // The server of "internal" refuses the question about "elsewhere", so the second server answers it.
        var result = await Resolver(inside, elsewhere).QueryAsync("out.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Name.Should().Be("out.internal");
        result.CanonicalNames.Should().ContainSingle().Which.Should().Be(new DnsCanonicalNameRecord("out.internal", "host.elsewhere", TimeSpan.FromSeconds(30)));
        result.Addresses.Should().ContainSingle().Which.Should().Be(new DnsAddressRecord("host.elsewhere", IPAddress.Parse("127.0.0.21"), Ttl));
        result.Server.Should().Be(elsewhere.EndPoint);
        inside.GetQueryCount("host.elsewhere.").Should().Be(1);
        elsewhere.GetQueryCount("host").Should().Be(1);
    }

    [Fact]
    public async Task A_truncated_answer_is_asked_again_over_TCP()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var addresses = Enumerable.Range(1, 150).Select(i => IPAddress.Parse($"127.0.1.{i}")).ToArray();
        server.SetAddresses("many", TimeSpan.FromSeconds(60), addresses);

        var result = await Resolver(server).QueryAsync("many.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Transport.Should().Be(DnsTransport.Tcp);
        result.Addresses.Select(a => a.Address).Should().Equal(addresses);
        server.TcpQueryCount.Should().Be(1);
        server.QueryCount.Should().Be(2);
    }

    [Fact]
    public async Task A_Truncate_fault_also_moves_to_TCP()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.Truncate());

        var result = await Resolver(server).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Transport.Should().Be(DnsTransport.Tcp);
        result.Addresses.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_dropped_query_times_out_and_the_next_server_answers()
    {
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService(Task2);
        first.InjectFault(DnsFault.Drop());
        var clock = new TestClock();

        var result = await TimedOut(clock, () => first.QueryCount == 1, () => ShortTimeoutResolver(clock, first, second).QueryAsync("name.internal", DnsRecordType.A));

        result.Server.Should().Be(second.EndPoint);
        result.Addresses.Select(a => a.Address).Should().Equal(Task2);
        first.QueryCount.Should().Be(1);
        result.Elapsed.Should().BeGreaterThanOrEqualTo(ShortTimeout, "the first server was waited for");
    }

    [Fact]
    public async Task When_every_server_fails_the_exception_names_each_with_its_outcome()
    {
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService();
        first.InjectFault(DnsFault.Drop());
        second.InjectFault(DnsFault.ServFail());
        var clock = new TestClock();

        var act = () => TimedOut(clock, () => first.QueryCount == 1, () => ShortTimeoutResolver(clock, first, second).QueryAsync("name.internal", DnsRecordType.A));

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Name.Should().Be("name.internal");
        ex.Type.Should().Be(DnsRecordType.A);
        ex.Attempts.Select(a => (a.Server, a.Outcome)).Should().Equal((first.EndPoint, DnsAttemptOutcome.Timeout), (second.EndPoint, DnsAttemptOutcome.ServerFailure));
        ex.Message.Should().Contain("name.internal").And.Contain(first.EndPoint.ToString()).And.Contain(second.EndPoint.ToString())
            .And.Contain("timed out after 0.3 s").And.Contain("SERVFAIL");
    }

    [Fact]
    public async Task Attempts_repeat_the_round_of_servers()
    {
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService();
        first.InjectFault(DnsFault.Refused());
        second.InjectFault(DnsFault.Refused());

        var act = async () => await CreateResolver(attempts: 2, servers: [first, second]).QueryAsync("name.internal", DnsRecordType.A);

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Attempts.Select(a => a.Server).Should().Equal(first.EndPoint, second.EndPoint, first.EndPoint, second.EndPoint);
        ex.Attempts.Should().OnlyContain(a => a.Outcome == DnsAttemptOutcome.Refused);
        ex.Message.Should().Contain("(x2)");
        (first.QueryCount, second.QueryCount).Should().Be((2, 2));
    }

    [Fact]
    public async Task A_fault_that_clears_is_retried_on_the_next_attempt()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.Drop(), count: 1);
        var clock = new TestClock();

        var result = await TimedOut(
            clock, () => server.QueryCount == 1, () => CreateResolver(attempts: 2, timeout: ShortTimeout, servers: [server], clock: clock).QueryAsync("name.internal", DnsRecordType.A));

        result.Addresses.Should().HaveCount(2);
        server.QueryCount.Should().Be(2);
    }

    [Theory]
    [InlineData(DnsResponseCode.ServFail, DnsAttemptOutcome.ServerFailure)]
    [InlineData(DnsResponseCode.Refused, DnsAttemptOutcome.Refused)]
    [InlineData(DnsResponseCode.NotImp, DnsAttemptOutcome.NotImplemented)]
    [InlineData(DnsResponseCode.NotAuth, DnsAttemptOutcome.OtherResponseCode)]
    public async Task An_error_response_code_moves_to_the_next_server(DnsResponseCode code, DnsAttemptOutcome outcome)
    {
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService(Task2);
        first.InjectFault(DnsFault.WithResponseCode(code));

        var result = await Resolver(first, second).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);
        result.Server.Should().Be(second.EndPoint);
        result.Addresses.Select(a => a.Address).Should().Equal(Task2);

        var act = async () => await Resolver(first).QueryAsync("name.internal", DnsRecordType.A);
        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Attempts.Should().ContainSingle().Which.Outcome.Should().Be(outcome);
    }

    [Fact]
    public async Task A_reply_with_a_wrong_ID_is_ignored_and_the_attempt_times_out()
    {
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService(Task2);
        first.InjectFault(DnsFault.WrongId());

        var clock = new TestClock();
        var result = await TimedOut(clock, () => first.QueryCount == 1, () => ShortTimeoutResolver(clock, first, second).QueryAsync("name.internal", DnsRecordType.A));
        result.Server.Should().Be(second.EndPoint);

        var act = async () => await CreateResolver([first], timeout: StrayReplyTimeout).QueryAsync("name.internal", DnsRecordType.A);
        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        var attempt = ex.Attempts.Should().ContainSingle().Subject;
        attempt.Outcome.Should().Be(DnsAttemptOutcome.Timeout);
        attempt.Detail.Should().Contain("ignored 1 reply(ies) that did not match the query");
    }

    [Fact]
    public async Task A_reply_with_a_wrong_question_is_ignored_and_the_attempt_times_out()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.WrongQuestion());

        var act = async () => await CreateResolver([server], timeout: StrayReplyTimeout).QueryAsync("name.internal", DnsRecordType.A);

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Attempts.Should().ContainSingle().Which.Outcome.Should().Be(DnsAttemptOutcome.Timeout);
        ex.Attempts[0].Detail.Should().Contain("ignored 1 reply(ies)");
    }

    [Theory]
    [InlineData(DnsSpoofing.WrongId)]
    [InlineData(DnsSpoofing.OtherSourcePort)]
    [InlineData(DnsSpoofing.WrongId | DnsSpoofing.OtherSourcePort)]
    public async Task A_spoofed_NXDOMAIN_before_the_real_answer_is_ignored(DnsSpoofing spoofing)
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.SpoofFirst(spoofing));

        // No timeout can fire: the real answer follows the bogus one at once, and must be the one accepted.
        var result = await WithoutTimeouts(FrozenClockResolver(server).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken));

        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.Addresses.Select(a => a.Address).Should().Equal(Task1, Task2);
        result.Elapsed.Should().Be(TimeSpan.Zero, "the answer came while the resolver's clock stood still: no timeout was waited out");
    }

    [Theory]
    [InlineData(DnsMalformation.CountTooLarge)]
    [InlineData(DnsMalformation.CompressionLoop)]
    [InlineData(DnsMalformation.PointerOutOfRange)]
    [InlineData(DnsMalformation.TruncatedRecord)]
    public async Task A_malformed_reply_is_a_MalformedReply_outcome_with_a_clear_message(DnsMalformation malformation)
    {
        // The fault breaks the reply over both transports: UDP, then the TCP try the unreadable UDP reply earns.
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService(Task2);
        first.InjectFault(DnsFault.Malformed(malformation));

        var result = await Resolver(first, second).QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);
        result.Server.Should().Be(second.EndPoint);

        var act = async () => await Resolver(first).QueryAsync("name.internal", DnsRecordType.A);
        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        var attempt = ex.Attempts.Should().ContainSingle("one attempt, over UDP then TCP").Subject;
        attempt.Outcome.Should().Be(DnsAttemptOutcome.MalformedReply);
        attempt.Transport.Should().Be(DnsTransport.Tcp);
        attempt.Detail.Should().StartWith("the UDP reply could not be read (Malformed DNS message at byte ").And.Contain("over TCP: Malformed DNS message at byte ");
        ex.Message.Should().Contain(first.EndPoint.ToString()).And.Contain("Malformed DNS message");
        first.TcpQueryCount.Should().Be(2, "each of the two lookups asked over TCP once");
    }

    [Fact]
    public async Task A_raw_reply_with_a_bad_A_record_is_malformed()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var reply = WireBuilder.Reply().Question("name.internal", DnsRecordType.A)
            .Record(0, "name.internal", DnsRecordType.A, 60, w => w.Raw(127, 0, 0, 1, 0)).ToArray();
        server.InjectFault(DnsFault.RawReply(reply));

        var act = async () => await Resolver(server).QueryAsync("name.internal", DnsRecordType.A);

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Attempts.Should().ContainSingle().Which.Detail.Should().Contain("an A record has 5 bytes of data");
    }

    [Fact]
    public async Task A_stopped_server_is_a_fast_NetworkError()
    {
        await using var server = await StartWithNameService();
        await server.StopAsync();

        var act = async () => await WithoutTimeouts(FrozenClockResolver(server).QueryAsync("name.internal", DnsRecordType.A));

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>("ICMP port unreachable ends the attempt without waiting for the timeout (" + NoTimeoutCanFire + ")")).Which;
        var attempt = ex.Attempts.Should().ContainSingle().Subject;
        attempt.Outcome.Should().Be(DnsAttemptOutcome.NetworkError);
        attempt.Detail.Should().Contain("connection refused");
    }

    [Fact]
    public async Task A_restarted_server_answers_again()
    {
        await using var server = await StartWithNameService();
        await server.StopAsync();
        var resolver = Resolver(server);
        var act = async () => await resolver.QueryAsync("name.internal", DnsRecordType.A);
        await act.Should().ThrowAsync<DnsResolutionException>();

        await server.RestartAsync();

        (await resolver.QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken)).Addresses.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_short_name_is_asked_through_the_search_domains()
    {
        await using var server = await StartWithNameService();

        var result = await Resolver(server, search: ["internal"]).QueryAsync("name", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Name.Should().Be("name.internal");
        result.Addresses.Should().HaveCount(2);
        server.GetQueryCount("name.internal.").Should().Be(1);
        server.QueryCount.Should().Be(1);
    }

    [Fact]
    public async Task A_negative_answer_for_one_search_domain_moves_to_the_next()
    {
        await using var server = await StartWithNameService();

        var result = await Resolver(server, search: ["sub.internal", "internal"]).QueryAsync("name", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Name.Should().Be("name.internal");
        server.GetQueryCount("name.sub.internal.").Should().Be(1);
        server.GetQueryCount("name.internal.").Should().Be(1);
    }

    [Fact]
    public async Task A_failing_search_domain_does_not_end_the_search()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.ServFail(), "name.sub.internal.");

        var result = await Resolver(server, search: ["sub.internal", "internal"]).QueryAsync("name", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Name.Should().Be("name.internal");
        result.Addresses.Should().HaveCount(2);
        server.GetQueryCount("name.sub.internal.").Should().Be(1);
    }

    [Fact]
    public async Task A_server_failure_outweighs_no_such_name_from_the_other_candidates()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.ServFail(), "ghost.sub.internal.");

        var act = async () => await Resolver(server, search: ["sub.internal", "internal"]).QueryAsync("ghost", DnsRecordType.A);

        // glibc says TRY_AGAIN here too: "no such name" from one candidate says nothing about the one that failed.
        (await act.Should().ThrowAsync<DnsResolutionException>()).Which.Message.Should().Contain("ghost.sub.internal").And.Contain("SERVFAIL");
        server.GetQueryCount("ghost.internal.").Should().Be(1);
        server.GetQueryCount("ghost.").Should().Be(1);
    }

    [Fact]
    public void A_bad_search_domain_is_rejected_with_its_reason()
    {
        var options = new DnsResolverOptions { ResolvConfPath = NoResolvConf };
        options.NameServers.Add("127.0.0.1");
        options.SearchDomains.Add(new string('a', 64) + ".internal");

        var act = () => new DnsResolver(options);

        act.Should().Throw<ArgumentException>().WithMessage("*SearchDomains*63*");
    }

    [Fact]
    public async Task Names_with_enough_dots_or_a_trailing_dot_skip_the_search_domains()
    {
        await using var server = await StartWithNameService();
        var resolver = Resolver(server, search: ["sub.internal"]);

        (await resolver.QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken)).Name.Should().Be("name.internal");
        (await resolver.QueryAsync("name.internal.", DnsRecordType.A, TestContext.Current.CancellationToken)).Name.Should().Be("name.internal");

        server.QueryCount.Should().Be(2);
        server.GetQueryCount("name.internal.sub.internal.").Should().Be(0);
    }

    [Fact]
    public async Task Rotate_spreads_the_first_server()
    {
        await using var first = await StartWithNameService();
        await using var second = await StartWithNameService();
        var rotating = CreateResolver(rotate: true, servers: [first, second]);
        var fixedOrder = Resolver(first, second);

        for (var i = 0; i < 4; i++)
        {
            await rotating.QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);
        }

        (first.QueryCount, second.QueryCount).Should().Be((2, 2));

        for (var i = 0; i < 4; i++)
        {
            await fixedOrder.QueryAsync("name.internal", DnsRecordType.A, TestContext.Current.CancellationToken);
        }

        (first.QueryCount, second.QueryCount).Should().Be((6, 2), "without rotate the first server takes every query");
    }

    [Fact]
    public async Task Caller_cancellation_is_OperationCanceledException_not_a_DNS_failure()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.Drop());
        var resolver = FrozenClockResolver(server);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var act = async () => await WithoutTimeouts(resolver.QueryAsync("name.internal", DnsRecordType.A, cts.Token));

        await act.Should().ThrowAsync<OperationCanceledException>("the caller's cancellation ends the query; " + NoTimeoutCanFire);
    }

    [Fact]
    public async Task An_already_cancelled_token_sends_nothing()
    {
        await using var server = await StartWithNameService();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var act = async () => await Resolver(server).QueryAsync("name.internal", DnsRecordType.A, cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        server.QueryCount.Should().Be(0);
    }

    [Fact]
    public async Task Cancellation_during_a_TCP_exchange_is_OperationCanceledException()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.Truncate(), count: 1); // UDP says "truncated" ...
        server.InjectFault(DnsFault.Drop()); // ... and the TCP query is never answered
        var resolver = CreateResolver(timeout: TimeSpan.FromSeconds(30), servers: [server]);
        using var cts = new CancellationTokenSource();

        var query = resolver.QueryAsync("name.internal", DnsRecordType.A, cts.Token).AsTask();
        await Poll.UntilAsync(() => server.TcpQueryCount == 1, "the query over TCP");
        await cts.CancelAsync();

        await ((Func<Task>)(() => query)).Should().ThrowAsync<OperationCanceledException>();
        server.TcpQueryCount.Should().Be(1);
    }

    [Fact]
    public async Task FORMERR_to_an_EDNS_query_is_retried_without_EDNS()
    {
        using var server = new PreEdnsServer();
        var resolver = new DnsResolver(new DnsResolverOptions { ResolvConfPath = NoResolvConf, Timeout = TimeSpan.FromSeconds(5), Attempts = 1, NameServers = { server.EndPoint.ToString() } });

        var result = await resolver.QueryAsync("old.internal", DnsRecordType.A, TestContext.Current.CancellationToken);

        result.Addresses.Should().ContainSingle().Which.Address.Should().Be(IPAddress.Parse("127.0.0.9"));
        (server.EdnsQueries, server.PlainQueries).Should().Be((1, 1));
    }

    [Fact]
    public async Task FORMERR_without_EDNS_too_is_a_FormatError_outcome()
    {
        await using var server = await StartWithNameService();
        server.InjectFault(DnsFault.WithResponseCode(DnsResponseCode.FormErr));

        var act = async () => await Resolver(server).QueryAsync("name.internal", DnsRecordType.A);

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Attempts.Should().ContainSingle().Which.Outcome.Should().Be(DnsAttemptOutcome.FormatError);
        server.QueryCount.Should().Be(2, "the query was asked once with EDNS and once without");
    }

    [Theory]
    [InlineData("name..internal")]
    [InlineData("bad name.internal")]
    public async Task A_bad_name_is_ArgumentException_naming_it_and_sends_nothing(string name)
    {
        await using var server = await StartWithNameService();

        var act = async () => await Resolver(server).QueryAsync(name, DnsRecordType.A);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain(name);
        server.QueryCount.Should().Be(0);
    }

    [Fact]
    public async Task Only_A_AAAA_and_SRV_questions_are_supported()
    {
        var resolver = new DnsResolver(new DnsResolverOptions { ResolvConfPath = NoResolvConf, NameServers = { "127.0.0.1:1" } });

        var act = async () => await resolver.QueryAsync("name.internal", DnsRecordType.TXT);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("TXT");
    }

    private const string NoResolvConf = "/nonexistent/cloudmap-tests/resolv.conf";

    private static async Task<DnsTestServer> StartWithNameService(params IPAddress[] addresses)
    {
        var server = await DnsTestServer.StartAsync();
        server.SetAddresses("name", Ttl, addresses.Length > 0 ? addresses : [Task1, Task2]);
        return server;
    }

    private static DnsResolver Resolver(params DnsTestServer[] servers) => CreateResolver(servers);

    /// <summary>For the cases where a timeout is the behaviour under test.</summary>
    private static DnsResolver ShortTimeoutResolver(TestClock clock, params DnsTestServer[] servers) => CreateResolver(servers, timeout: ShortTimeout, clock: clock);

    /// <summary>Runs the attempt's timeout out on <paramref name="clock"/> once the query is with the server that will not answer.</summary>
    private static async Task<DnsQueryResult> TimedOut(TestClock clock, Func<bool> queried, Func<ValueTask<DnsQueryResult>> start)
    {
        var query = start().AsTask();
        await Poll.UntilAsync(queried, "the query to reach the silent server");
        clock.Advance(ShortTimeout);
        return await query;
    }

    private static DnsResolver Resolver(DnsTestServer server, string[] search) => CreateResolver([server], search: search);

    private const string NoTimeoutCanFire = "the attempt's timeout runs on a clock that never moves, so it cannot be what ended the attempt";

    /// <summary>
    /// For the cases where the point is that no timeout was waited out: the attempt's timeout runs on a manual clock that
    /// the test never moves, so it cannot fire, and an outcome at all shows the attempt ended without it. Use with
    /// <see cref="WithoutTimeouts"/>.
    /// </summary>
    private static DnsResolver FrozenClockResolver(DnsTestServer server) => CreateResolver([server], timeout: LongTimeout, clock: new TestClock());

    /// <summary>A guard, not a threshold: fails (TimeoutException) a query that would otherwise wait forever on a frozen clock.</summary>
    private static Task<DnsQueryResult> WithoutTimeouts(ValueTask<DnsQueryResult> query) =>
        query.AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

    private static DnsResolver CreateResolver(
        DnsTestServer[] servers,
        int attempts = 1,
        TimeSpan? timeout = null,
        bool rotate = false,
        string[]? search = null,
        TimeProvider? clock = null)
    {
        // Never /etc/resolv.conf: its search list would change what short names mean.
        var options = new DnsResolverOptions
        {
            ResolvConfPath = NoResolvConf,
            Timeout = timeout ?? LongTimeout,
            Attempts = attempts,
            Rotate = rotate,
        };
        foreach (var s in servers)
        {
            options.NameServers.Add(s.EndPoint.ToString());
        }

        foreach (var d in search ?? [])
        {
            options.SearchDomains.Add(d);
        }

        return new DnsResolver(options, clock);
    }

    /// <summary>
    /// A name server from before EDNS (RFC 6891 section 7): FORMERR to any query with an OPT record, and
    /// for one without, an A record 127.0.0.9 for whatever was asked. UDP only, on loopback.
    /// </summary>
    private sealed class PreEdnsServer : IDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _edns;
        private int _plain;

        public PreEdnsServer()
        {
            EndPoint = (IPEndPoint)_udp.Client.LocalEndPoint!;
            _loop = Task.Run(LoopAsync);
        }

        public IPEndPoint EndPoint { get; }

        public int EdnsQueries => Volatile.Read(ref _edns);

        public int PlainQueries => Volatile.Read(ref _plain);

        public void Dispose()
        {
            _stop.Cancel();
            _udp.Dispose();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The loop ends with the socket.
            }

            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                UdpReceiveResult received;
                try
                {
                    received = await _udp.ReceiveAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                var query = received.Buffer;
                var id = (ushort)((query[0] << 8) | query[1]);
                var hasOpt = query[10] != 0 || query[11] != 0;
                var questionEnd = 12;
                while (query[questionEnd] != 0)
                {
                    questionEnd += query[questionEnd] + 1;
                }

                questionEnd += 5;
                byte[] reply;
                if (hasOpt)
                {
                    Interlocked.Increment(ref _edns);
                    reply = [.. query[..questionEnd]];
                    reply[2] = 0x81; // QR, RD
                    reply[3] = 0x01; // FORMERR
                    reply[10] = 0;
                    reply[11] = 0;
                }
                else
                {
                    Interlocked.Increment(ref _plain);
                    reply = [.. query[..questionEnd], 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 9];
                    reply[2] = 0x85; // QR, AA, RD
                    reply[3] = 0x00;
                    reply[7] = 1; // ANCOUNT
                }

                reply[0] = (byte)(id >> 8);
                reply[1] = (byte)id;
                await _udp.SendAsync(reply, received.RemoteEndPoint);
            }
        }
    }
}
