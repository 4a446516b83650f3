using System.Net;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// <see cref="DiscoveryRecordTypes.AAndAaaa"/> keeps one family's addresses when the other fails, and does
/// not wait out the DNS timeout for a family that has not answered. Three manual clocks: the server's (for Delay
/// faults), the resolver's (never moved, so no DNS timeout ever fires here) and the source's grace wait.
/// </summary>
[Collection(DnsTimingGroup.Name)]
public sealed class DnsServiceSourceFamilyTests : IAsyncLifetime
{
    private const string NoResolvConf = "/nonexistent/cloudmap-tests/resolv.conf";
    private static readonly ServiceKey Both = new("name.internal", DiscoveryRecordTypes.AAndAaaa);
    private static readonly IPAddress V4 = IPAddress.Parse("127.0.0.6");
    private static readonly IPAddress V6 = IPAddress.Parse("fd00::6");
    private readonly TestClock _serverClock = new();
    private readonly TestClock _resolverClock = new();
    private readonly TestClock _graceClock = new();
    private DnsTestServer _server = null!;
    private DnsServiceSource _source = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await DnsTestServer.StartAsync(new DnsTestServerOptions { TimeProvider = _serverClock });
        _server.SetAddresses("name", TimeSpan.FromSeconds(10), V4, V6);
        _source = Source(_graceClock);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(DnsRecordType.AAAA)]
    [InlineData(DnsRecordType.A)]
    public async Task A_SERVFAIL_for_one_family_keeps_the_other_familys_addresses(DnsRecordType failing)
    {
        _server.InjectFault(DnsFault.ServFail(), "name", type: failing);

        var resolution = await _source.ResolveAsync(Both, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        resolution.Addresses.Select(a => a.Address.Address).Should().Equal(failing == DnsRecordType.A ? V6 : V4);
        resolution.NegativeReason.Should().BeNull();
        resolution.Ttl.Should().Be(TimeSpan.FromSeconds(10));
        resolution.Source.Should().Contain($"{failing}: DNS lookup of name.internal ({failing}) failed").And.Contain("SERVFAIL");
    }

    [Fact]
    public async Task A_dropped_AAAA_is_waited_for_50_ms_after_the_A_answer_not_the_DNS_timeout()
    {
        _server.InjectFault(DnsFault.Drop(), "name", type: DnsRecordType.AAAA);

        var resolving = _source.ResolveAsync(Both, TestContext.Current.CancellationToken);
        await Poll.UntilAsync(() => _graceClock.ActiveTimers == 1, "_graceClock.ActiveTimers == 1"); // A has answered: the grace wait is armed
        _graceClock.Advance(TimeSpan.FromMilliseconds(49));
        resolving.IsCompleted.Should().BeFalse("the AAAA query still has a millisecond");
        _graceClock.Advance(TimeSpan.FromMilliseconds(1));
        var resolution = await resolving.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        resolution.Addresses.Select(a => a.Address.Address).Should().Equal(V4);
        resolution.Source.Should().Contain("AAAA: no answer within 50 ms of the other family's, not waited for");
        await Poll.UntilAsync(() => _resolverClock.ActiveTimers == 0, "_resolverClock.ActiveTimers == 0"); // the abandoned AAAA query was cancelled, its timer gone
    }

    [Fact]
    public async Task An_AAAA_answer_within_the_grace_time_is_kept()
    {
        _server.InjectFault(DnsFault.Delay(TimeSpan.FromMilliseconds(30)), "name", type: DnsRecordType.AAAA);

        var resolving = _source.ResolveAsync(Both, TestContext.Current.CancellationToken);
        await Poll.UntilAsync(() => _graceClock.ActiveTimers == 1 && _serverClock.ActiveTimers == 1, "_graceClock.ActiveTimers == 1 && _serverClock.ActiveTimers == 1");
        _serverClock.Advance(TimeSpan.FromMilliseconds(30));
        var resolution = await resolving.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        resolution.Addresses.Select(a => a.Address.Address).Should().BeEquivalentTo([V4, V6]);
        await Poll.UntilAsync(() => _graceClock.ActiveTimers == 0, "_graceClock.ActiveTimers == 0"); // the wait ended with the answer
    }

    [Fact]
    public async Task The_grace_time_is_as_long_again_as_the_first_answer_took()
    {
        // The server and the grace wait share a clock: A answers 400 ms in, so AAAA gets 400 ms more.
        var source = Source(_serverClock);
        _server.InjectFault(DnsFault.Delay(TimeSpan.FromMilliseconds(400)), "name", type: DnsRecordType.A);
        _server.InjectFault(DnsFault.Drop(), "name", type: DnsRecordType.AAAA);

        var resolving = source.ResolveAsync(Both, TestContext.Current.CancellationToken);
        await Poll.UntilAsync(() => _serverClock.ActiveTimers == 1, "_serverClock.ActiveTimers == 1"); // the A reply's delay
        _serverClock.Advance(TimeSpan.FromMilliseconds(400));
        await Poll.UntilAsync(() => _serverClock.ActiveTimers == 1, "_serverClock.ActiveTimers == 1"); // now the grace wait
        _serverClock.Advance(TimeSpan.FromMilliseconds(399));
        resolving.IsCompleted.Should().BeFalse();
        _serverClock.Advance(TimeSpan.FromMilliseconds(1));
        var resolution = await resolving.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        resolution.Addresses.Select(a => a.Address.Address).Should().Equal(V4);
        resolution.Source.Should().Contain("no answer within 400 ms");
        DnsServiceSource.FamilyGrace(TimeSpan.FromMilliseconds(3)).Should().Be(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task Both_families_failing_fail_naming_both()
    {
        _server.InjectFault(DnsFault.ServFail(), "name", type: DnsRecordType.A);
        _server.InjectFault(DnsFault.Refused(), "name", type: DnsRecordType.AAAA);

        var act = async () => await _source.ResolveAsync(Both, default).WaitAsync(TimeSpan.FromSeconds(10));

        var ex = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        ex.Message.Should().StartWith("DNS lookup of name.internal (A and AAAA) failed: A: ").And.Contain("SERVFAIL").And.Contain("; AAAA: ").And.Contain("REFUSED");
        ex.Attempts.Select(a => a.Outcome).Should().BeEquivalentTo([DnsAttemptOutcome.ServerFailure, DnsAttemptOutcome.Refused]);
    }

    [Fact]
    public async Task No_A_records_and_a_failing_AAAA_is_a_failure_not_no_instances()
    {
        // "No A records" says nothing about AAAA: believing "no instances" would hide an IPv6-only service.
        _server.SetAddresses("name", TimeSpan.FromSeconds(10), V6);
        _server.InjectFault(DnsFault.ServFail(), "name", type: DnsRecordType.AAAA);

        var act = async () => await _source.ResolveAsync(Both, default).WaitAsync(TimeSpan.FromSeconds(10));

        (await act.Should().ThrowAsync<DnsResolutionException>()).Which.Message
            .Should().Contain("no A records for name.internal (NODATA)").And.Contain("AAAA: ").And.Contain("SERVFAIL");
    }

    [Fact]
    public async Task Both_families_without_records_is_no_instances()
    {
        _server.RemoveName("name");

        var resolution = await _source.ResolveAsync(Both, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        resolution.IsNegative.Should().BeTrue();
        resolution.NegativeReason.Should().Contain("NXDOMAIN for name.internal");
    }

    [Fact]
    public async Task The_callers_cancellation_ends_both_queries()
    {
        _server.InjectFault(DnsFault.Drop(), "name");
        using var cts = new CancellationTokenSource();

        var resolving = _source.ResolveAsync(Both, cts.Token);
        await Poll.UntilAsync(() => _server.QueryCount == 2, "_server.QueryCount == 2");
        await cts.CancelAsync();

        await resolving.Invoking(r => r.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
        await Poll.UntilAsync(() => _resolverClock.ActiveTimers == 0, "_resolverClock.ActiveTimers == 0");
    }

    private DnsServiceSource Source(TimeProvider graceClock)
    {
        var options = new DnsResolverOptions { ResolvConfPath = NoResolvConf, Timeout = TimeSpan.FromSeconds(30), Attempts = 1, NameServers = { _server.EndPoint.ToString() } };
        return new DnsServiceSource(new DnsResolver(options, _resolverClock), graceClock);
    }
}
