using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Testing;

public sealed class DnsTestServerAnswerTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private DnsTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await DnsTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_query_gets_an_authoritative_answer_with_compressed_owner_names_in_the_client_case()
    {
        _server.AddAddress("name", IPAddress.Parse("10.0.0.1"), TimeSpan.Zero);
        _server.AddAddress("NAME.internal", IPAddress.Parse("10.0.0.2"), TimeSpan.Zero);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(0x1234, "Name.Internal", RawDns.A)));

        reply.Id.Should().Be(0x1234);
        reply.IsResponse.Should().BeTrue();
        reply.Authoritative.Should().BeTrue();
        reply.RecursionDesired.Should().BeTrue("RD is copied from the query");
        reply.ResponseCode.Should().Be((int)DnsResponseCode.NoError);
        reply.Questions.Should().Equal(("Name.Internal", RawDns.A));
        reply.Answers.Select(a => a.Address).Should().Equal(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2"));
        reply.Answers.Should().AllSatisfy(a =>
        {
            a.Name.Should().Be("Name.Internal", "owners point back at the question");
            a.Ttl.Should().Be(0);
        });
        reply.PointersFollowed.Should().BeGreaterThanOrEqualTo(2);
        _server.Zone.Should().Be("internal");
        _server.EndPoint.Address.Should().Be(IPAddress.Loopback);
    }

    [Fact]
    public async Task AAAA_query_gets_only_IPv6_records_and_A_only_IPv4()
    {
        _server.SetAddresses("dual", Ttl, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1"), IPAddress.Parse("fd00::2"));

        var v6 = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(1, "dual.internal", RawDns.Aaaa)));
        var v4 = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(2, "dual.internal", RawDns.A)));

        v6.Answers.Should().OnlyContain(a => a.Type == RawDns.Aaaa && a.Ttl == 10);
        v6.Answers.Select(a => a.Address).Should().Equal(IPAddress.Parse("fd00::1"), IPAddress.Parse("fd00::2"));
        v4.Answers.Select(a => a.Address).Should().Equal(IPAddress.Parse("10.0.0.1"));
    }

    [Fact]
    public async Task SRV_query_carries_target_addresses_in_the_additional_section()
    {
        _server.AddService("name", 1, 1, 3000, "task-1.name", Ttl);
        _server.AddService("name", 1, 1, 3001, "task-2.name.internal.", Ttl);
        _server.AddAddress("task-1.name", IPAddress.Parse("10.0.1.1"), Ttl);
        _server.AddAddress("task-2.name", IPAddress.Parse("fd00::2"), Ttl);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(7, "name.internal", RawDns.Srv)));

        reply.Answers.Select(a => (a.Type, a.Priority, a.Weight, a.Port, a.Target)).Should().Equal(
            (RawDns.Srv, (ushort)1, (ushort)1, (ushort)3000, "task-1.name.internal"),
            (RawDns.Srv, (ushort)1, (ushort)1, (ushort)3001, "task-2.name.internal"));
        reply.Additional.Select(a => (a.Name, a.Address)).Should().Equal(
            ("task-1.name.internal", IPAddress.Parse("10.0.1.1")),
            ("task-2.name.internal", IPAddress.Parse("fd00::2")));

        _server.IncludeServiceTargetAddresses = false;
        var bare = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(8, "name.internal", RawDns.Srv)));
        bare.Answers.Should().HaveCount(2);
        bare.Additional.Should().BeEmpty();
    }

    [Fact]
    public async Task A_query_for_an_in_zone_alias_gets_the_chain_and_the_target_records()
    {
        _server.SetCanonicalName("alias", "middle", TimeSpan.FromSeconds(30));
        _server.SetCanonicalName("middle", "name", TimeSpan.FromSeconds(20));
        _server.AddAddress("name", IPAddress.Parse("10.0.0.9"), Ttl);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(3, "alias.internal", RawDns.A)));
        var cnameOnly = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(4, "alias.internal", RawDns.Cname)));

        reply.Answers.Select(a => (a.Name, a.Type, a.Ttl, a.Target, a.Address)).Should().Equal(
            ("alias.internal", RawDns.Cname, 30u, "middle.internal", (IPAddress?)null),
            ("middle.internal", RawDns.Cname, 20u, "name.internal", null),
            ("name.internal", RawDns.A, 10u, null, IPAddress.Parse("10.0.0.9")));
        cnameOnly.Answers.Should().ContainSingle().Which.Target.Should().Be("middle.internal");
    }

    [Fact]
    public async Task Alias_to_another_zone_answers_with_the_CNAME_alone()
    {
        _server.SetCanonicalName("ext", "service.example.", Ttl);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(5, "ext.internal", RawDns.A)));

        reply.ResponseCode.Should().Be((int)DnsResponseCode.NoError);
        reply.Answers.Should().ContainSingle().Which.Target.Should().Be("service.example");
        reply.Authority.Should().BeEmpty();
    }

    [Fact]
    public async Task Missing_name_gets_NXDOMAIN_with_the_SOA_carrying_the_negative_TTL()
    {
        _server.NegativeTtl = TimeSpan.FromSeconds(42);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(9, "missing.internal", RawDns.A)));

        reply.ResponseCode.Should().Be((int)DnsResponseCode.NXDomain);
        reply.Authoritative.Should().BeTrue();
        reply.Answers.Should().BeEmpty();
        var soa = reply.Authority.Should().ContainSingle().Subject;
        soa.Type.Should().Be(RawDns.Soa);
        soa.Name.Should().Be("internal");
        soa.Ttl.Should().Be(42);
        soa.Minimum.Should().Be(42);
    }

    [Fact]
    public async Task Default_negative_TTL_is_Cloud_Maps_900_seconds()
    {
        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(9, "missing.internal", RawDns.A)));

        _server.NegativeTtl.Should().Be(TimeSpan.FromSeconds(900));
        reply.Authority.Single().Minimum.Should().Be(900);
    }

    [Theory]
    [InlineData("name.internal", RawDns.Aaaa)]
    [InlineData("name.internal", RawDns.Txt)]
    [InlineData("svc.internal", RawDns.A)] // an empty non-terminal above task-1.svc (RFC 8020)
    public async Task Existing_name_without_the_type_gets_NODATA_with_the_SOA(string name, ushort type)
    {
        _server.AddAddress("name", IPAddress.Parse("10.0.0.1"), Ttl);
        _server.AddAddress("task-1.svc", IPAddress.Parse("10.0.0.2"), Ttl);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(10, name, type)));

        reply.ResponseCode.Should().Be((int)DnsResponseCode.NoError);
        reply.Answers.Should().BeEmpty();
        reply.Authority.Should().ContainSingle().Which.Type.Should().Be(RawDns.Soa);
    }

    [Fact]
    public async Task Name_outside_the_zone_is_refused_without_authority()
    {
        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(11, "example.com", RawDns.A)));

        reply.ResponseCode.Should().Be((int)DnsResponseCode.Refused);
        reply.Authoritative.Should().BeFalse();
        reply.Answers.Should().BeEmpty();
    }

    [Fact]
    public async Task EDNS_is_advertised_back_only_when_the_query_used_it()
    {
        _server.AddAddress("name", IPAddress.Parse("10.0.0.1"), Ttl);

        var with = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(12, "name.internal", RawDns.A, ednsPayloadSize: 4096)));
        var without = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(13, "name.internal", RawDns.A)));
        var badVersion = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(14, "name.internal", RawDns.A, ednsPayloadSize: 4096, ednsVersion: 1)));

        with.Opt.Should().NotBeNull();
        with.Opt!.Class.Should().Be(1232, "the OPT CLASS field is the server's UDP payload size");
        with.Answers.Should().ContainSingle();
        without.Opt.Should().BeNull();
        (badVersion.Opt!.Ttl >> 24).Should().Be(1, "BADVERS is extended RCODE 16: 1 in the OPT's upper byte");
        badVersion.Answers.Should().BeEmpty();
    }

    [Fact]
    public async Task Answer_larger_than_the_client_limit_is_truncated_over_UDP_and_whole_over_TCP()
    {
        var addresses = Enumerable.Range(1, 150).Select(i => new IPAddress([10, 1, (byte)(i / 256), (byte)i])).ToArray();
        _server.SetAddresses("big", Ttl, addresses);
        _server.AddAddress("small", IPAddress.Parse("10.0.0.1"), Ttl);

        var classic = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(15, "big.internal", RawDns.A)));
        var edns = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(16, "big.internal", RawDns.A, ednsPayloadSize: 1232)));
        var ednsSmall = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(17, "small.internal", RawDns.A, ednsPayloadSize: 1232)));
        var tcp = RawDns.Parse(await RawDns.TcpExchangeAsync(_server.EndPoint, RawDns.Query(18, "big.internal", RawDns.A, ednsPayloadSize: 1232)));

        classic.Truncated.Should().BeTrue();
        classic.Answers.Should().BeEmpty();
        classic.Questions.Should().ContainSingle();
        edns.Truncated.Should().BeTrue();
        edns.Opt.Should().NotBeNull("a truncated reply still advertises EDNS");
        ednsSmall.Truncated.Should().BeFalse();
        tcp.Truncated.Should().BeFalse();
        tcp.Answers.Select(a => a.Address).Should().Equal(addresses);
    }

    [Fact]
    public async Task EDNS_payload_size_decides_where_truncation_starts()
    {
        // 60 A records take about 1 KB: too big for 512, small enough for 4096.
        _server.SetAddresses("mid", Ttl, Enumerable.Range(1, 60).Select(i => new IPAddress([10, 2, 0, (byte)i])).ToArray());

        var small = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(19, "mid.internal", RawDns.A, ednsPayloadSize: 512)));
        var large = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(20, "mid.internal", RawDns.A, ednsPayloadSize: 4096)));

        small.Truncated.Should().BeTrue();
        large.Truncated.Should().BeFalse();
        large.Answers.Should().HaveCount(60);
    }

    [Fact]
    public async Task MaxAnswerRecords_sends_a_subset_like_Route53_multivalue()
    {
        var all = Enumerable.Range(1, 20).Select(i => new IPAddress([10, 3, 0, (byte)i])).ToArray();
        _server.SetAddresses("many", Ttl, all);
        _server.MaxAnswerRecords = 8;

        var seen = new HashSet<IPAddress>();
        for (ushort id = 0; id < 10; id++)
        {
            var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(id, "many.internal", RawDns.A)));
            reply.Answers.Should().HaveCount(8);
            reply.Answers.Select(a => a.Address!).Should().OnlyHaveUniqueItems().And.BeSubsetOf(all);
            seen.UnionWith(reply.Answers.Select(a => a.Address!));
        }

        // Ten random draws of 8 from 20 all landing on the same 8 would be a 1 in 10^45 event.
        seen.Count.Should().BeGreaterThan(8);
    }

    [Fact]
    public async Task Records_change_while_the_server_runs()
    {
        _server.SetAddresses("name", Ttl, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2"));
        _server.RemoveAddress("name", IPAddress.Parse("10.0.0.1")).Should().BeTrue();
        _server.RemoveAddress("name", IPAddress.Parse("10.0.0.1")).Should().BeFalse();
        var afterRemove = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(1, "name.internal", RawDns.A)));

        _server.AddService("name", 1, 1, 80, "t1.name", Ttl);
        _server.RemoveService("name", "t1.name.internal").Should().BeTrue();
        _server.RemoveName("name").Should().BeTrue();
        var afterRemoveName = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(2, "name.internal", RawDns.A)));

        _server.AddAddress("other", IPAddress.Parse("10.0.0.3"), Ttl);
        _server.Clear();
        var afterClear = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(3, "other.internal", RawDns.A)));

        afterRemove.Answers.Select(a => a.Address).Should().Equal(IPAddress.Parse("10.0.0.2"));
        afterRemoveName.ResponseCode.Should().Be((int)DnsResponseCode.NXDomain);
        afterClear.ResponseCode.Should().Be((int)DnsResponseCode.NXDomain);
        afterClear.Authority.Single().Serial.Should().BeGreaterThan(afterRemoveName.Authority.Single().Serial, "every change bumps the SOA serial");
    }

    [Fact]
    public async Task TCP_connection_serves_several_queries()
    {
        _server.AddAddress("a", IPAddress.Parse("10.0.0.1"), Ttl);
        _server.AddAddress("b", IPAddress.Parse("10.0.0.2"), Ttl);
        using var socket = await RawDns.ConnectTcpAsync(_server.EndPoint);

        await RawDns.SendTcpAsync(socket, RawDns.Query(21, "a.internal", RawDns.A));
        var first = RawDns.Parse(await RawDns.ReceiveTcpAsync(socket));
        await RawDns.SendTcpAsync(socket, RawDns.Query(22, "b.internal", RawDns.A));
        var second = RawDns.Parse(await RawDns.ReceiveTcpAsync(socket));

        (first.Id, first.Answers.Single().Address).Should().Be(((ushort)21, IPAddress.Parse("10.0.0.1")));
        (second.Id, second.Answers.Single().Address).Should().Be(((ushort)22, IPAddress.Parse("10.0.0.2")));
        _server.TcpQueryCount.Should().Be(2);
    }

    [Fact]
    public void Record_names_are_validated_and_listed()
    {
        _server.AddAddress("name", IPAddress.Parse("10.0.0.1"), Ttl);
        _server.AddService("_http._tcp.name", 1, 1, 3000, "t1.name", Ttl);

        var outside = () => _server.AddAddress("name.example.", IPAddress.Parse("10.0.0.1"), Ttl);
        var emptyLabel = () => _server.AddAddress("a..b", IPAddress.Parse("10.0.0.1"), Ttl);
        var negativeTtl = () => _server.AddAddress("name", IPAddress.Parse("10.0.0.1"), TimeSpan.FromSeconds(-1));

        outside.Should().Throw<ArgumentException>();
        emptyLabel.Should().Throw<ArgumentException>();
        negativeTtl.Should().Throw<ArgumentOutOfRangeException>();
        var zone = _server.ExportZone();
        zone.Should().Contain("name.internal.\t10\tIN\tA\t10.0.0.1");
        zone.Should().Contain("_http._tcp.name.internal.\t10\tIN\tSRV\t1 1 3000 t1.name.internal.");
        zone.Should().StartWith("internal.\t900\tIN\tSOA");
    }
}
