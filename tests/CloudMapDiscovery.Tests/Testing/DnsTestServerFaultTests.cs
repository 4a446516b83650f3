using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Testing;

public sealed class DnsTestServerFaultTests : IAsyncLifetime
{
    private static readonly IPAddress Address = IPAddress.Parse("10.0.0.1");
    private readonly SignalingTimeProvider _clock = new();
    private DnsTestServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await DnsTestServer.StartAsync(new DnsTestServerOptions { TimeProvider = _clock });
        _server.AddAddress("name", Address, TimeSpan.FromSeconds(10));
        _server.AddAddress("other", IPAddress.Parse("10.0.0.2"), TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Drop_sends_nothing_and_the_next_query_is_answered()
    {
        _server.InjectFault(DnsFault.Drop(), count: 1);
        using var socket = RawDns.ConnectUdp(_server.EndPoint);

        await socket.SendAsync(RawDns.Query(1, "name.internal", RawDns.A), SocketFlags.None);
        await socket.SendAsync(RawDns.Query(2, "name.internal", RawDns.A), SocketFlags.None);
        var first = RawDns.Parse(await RawDns.ReceiveAsync(socket));

        // The server handles datagrams in arrival order, so a reply to query 1 would have come first.
        first.Id.Should().Be(2);
        first.Answers.Single().Address.Should().Be(Address);
        _server.QueryCount.Should().Be(2, "dropped queries are counted");
    }

    [Fact]
    public async Task Delay_answers_only_when_the_injected_clock_reaches_the_delay()
    {
        _server.InjectFault(DnsFault.Delay(TimeSpan.FromSeconds(5)));
        using var socket = RawDns.ConnectUdp(_server.EndPoint);
        var timerCreated = _clock.NextTimerCreated;

        await socket.SendAsync(RawDns.Query(3, "name.internal", RawDns.A), SocketFlags.None);
        await timerCreated;
        _clock.Advance(TimeSpan.FromSeconds(4));
        socket.Available.Should().Be(0, "the reply waits on a timer that has not fired");
        _clock.Advance(TimeSpan.FromSeconds(1));
        var reply = RawDns.Parse(await RawDns.ReceiveAsync(socket));

        reply.Id.Should().Be(3);
        reply.Answers.Single().Address.Should().Be(Address);
    }

    [Fact]
    public async Task Delayed_UDP_query_does_not_hold_up_others()
    {
        _server.InjectFault(DnsFault.Delay(TimeSpan.FromMinutes(1)), "name");
        using var socket = RawDns.ConnectUdp(_server.EndPoint);

        await socket.SendAsync(RawDns.Query(4, "name.internal", RawDns.A), SocketFlags.None);
        await socket.SendAsync(RawDns.Query(5, "other.internal", RawDns.A), SocketFlags.None);
        var reply = RawDns.Parse(await RawDns.ReceiveAsync(socket));

        reply.Id.Should().Be(5);
    }

    [Theory]
    [InlineData(DnsResponseCode.ServFail)]
    [InlineData(DnsResponseCode.Refused)]
    [InlineData(DnsResponseCode.NotImp)]
    public async Task Response_code_faults_answer_with_that_code_and_no_records(DnsResponseCode code)
    {
        _server.InjectFault(code switch
        {
            DnsResponseCode.ServFail => DnsFault.ServFail(),
            DnsResponseCode.Refused => DnsFault.Refused(),
            _ => DnsFault.WithResponseCode(code),
        });

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(6, "name.internal", RawDns.A)));

        reply.Id.Should().Be(6);
        reply.ResponseCode.Should().Be((int)code);
        reply.Answers.Should().BeEmpty();
        reply.Questions.Should().Equal(("name.internal", RawDns.A));
    }

    [Fact]
    public async Task Truncate_sets_TC_over_UDP_and_answers_over_TCP_without_using_up_its_count()
    {
        _server.InjectFault(DnsFault.Truncate(), count: 1);

        var tcp = RawDns.Parse(await RawDns.TcpExchangeAsync(_server.EndPoint, RawDns.Query(7, "name.internal", RawDns.A)));
        var udp = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(8, "name.internal", RawDns.A)));
        var udpAgain = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(9, "name.internal", RawDns.A)));

        tcp.Truncated.Should().BeFalse();
        tcp.Answers.Should().ContainSingle();
        udp.Truncated.Should().BeTrue();
        udp.Answers.Should().BeEmpty();
        udpAgain.Truncated.Should().BeFalse("the fault was armed for one query");
        udpAgain.Answers.Should().ContainSingle();
    }

    [Fact]
    public async Task WrongId_answers_with_another_id()
    {
        _server.InjectFault(DnsFault.WrongId());

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(10, "name.internal", RawDns.A)));

        reply.Id.Should().NotBe(10);
        reply.Answers.Should().ContainSingle();
    }

    [Fact]
    public async Task WrongQuestion_echoes_another_name()
    {
        _server.InjectFault(DnsFault.WrongQuestion());

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(11, "name.internal", RawDns.A)));

        reply.Id.Should().Be(11);
        reply.Questions.Single().Name.Should().Be("mismatch.name.internal");
    }

    [Theory]
    [InlineData(DnsMalformation.CountTooLarge)]
    [InlineData(DnsMalformation.CompressionLoop)]
    [InlineData(DnsMalformation.PointerOutOfRange)]
    [InlineData(DnsMalformation.TruncatedRecord)]
    public async Task Malformed_keeps_id_and_question_and_breaks_parsing(DnsMalformation malformation)
    {
        _server.InjectFault(DnsFault.Malformed(malformation));

        var bytes = await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(12, "name.internal", RawDns.A));

        (bytes[0], bytes[1]).Should().Be(((byte)0, (byte)12));
        bytes.AsSpan(12, 15).ToArray().Should().Equal(RawDns.Query(12, "name.internal", RawDns.A).AsSpan(12, 15).ToArray());
        var parse = () => RawDns.Parse(bytes);
        parse.Should().Throw<FormatException>();
    }

    [Fact]
    public async Task RawReply_sends_the_given_bytes_with_the_query_id()
    {
        _server.InjectFault(DnsFault.RawReply([0xFF, 0xFF, 0x81, 0x80, 0xAB]));
        _server.InjectFault(DnsFault.RawReply([0xFF, 0xFF, 0x81], replaceId: false), "other");

        var withId = await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(0x0102, "name.internal", RawDns.A));
        var asIs = await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(0x0102, "other.internal", RawDns.A));

        withId.Should().Equal(0x01, 0x02, 0x81, 0x80, 0xAB);
        asIs.Should().Equal(0xFF, 0xFF, 0x81);
    }

    [Fact]
    public async Task SpoofFirst_sends_a_wrong_id_NXDOMAIN_before_the_real_answer()
    {
        _server.InjectFault(DnsFault.SpoofFirst());
        using var socket = RawDns.ConnectUdp(_server.EndPoint);

        await socket.SendAsync(RawDns.Query(13, "name.internal", RawDns.A), SocketFlags.None);
        var bogus = RawDns.Parse(await RawDns.ReceiveAsync(socket));
        var genuine = RawDns.Parse(await RawDns.ReceiveAsync(socket));

        bogus.Id.Should().NotBe(13);
        bogus.ResponseCode.Should().Be((int)DnsResponseCode.NXDomain);
        genuine.Id.Should().Be(13);
        genuine.Answers.Single().Address.Should().Be(Address);
    }

    [Fact]
    public async Task SpoofFirst_from_another_port_keeps_the_id_but_not_the_source()
    {
        _server.InjectFault(DnsFault.SpoofFirst(DnsSpoofing.OtherSourcePort));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await socket.SendToAsync(RawDns.Query(14, "name.internal", RawDns.A), SocketFlags.None, _server.EndPoint);
        var first = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        var bogus = RawDns.Parse(buffer[..first.ReceivedBytes]);
        var second = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        var genuine = RawDns.Parse(buffer[..second.ReceivedBytes]);

        first.RemoteEndPoint.Should().NotBe(_server.EndPoint);
        bogus.Id.Should().Be(14);
        bogus.ResponseCode.Should().Be((int)DnsResponseCode.NXDomain);
        second.RemoteEndPoint.Should().Be(_server.EndPoint);
        genuine.Answers.Single().Address.Should().Be(Address);
    }

    [Fact]
    public async Task SpoofFirst_over_TCP_sends_a_wrong_id_reply_then_the_answer_on_the_stream()
    {
        _server.InjectFault(DnsFault.SpoofFirst(DnsSpoofing.OtherSourcePort));
        using var socket = await RawDns.ConnectTcpAsync(_server.EndPoint);

        await RawDns.SendTcpAsync(socket, RawDns.Query(15, "name.internal", RawDns.A));
        var bogus = RawDns.Parse(await RawDns.ReceiveTcpAsync(socket));
        var genuine = RawDns.Parse(await RawDns.ReceiveTcpAsync(socket));

        bogus.Id.Should().NotBe(15);
        genuine.Id.Should().Be(15);
        genuine.Answers.Should().ContainSingle();
    }

    [Fact]
    public async Task Fault_for_a_name_leaves_other_names_alone_and_ClearFaults_disarms_it()
    {
        _server.InjectFault(DnsFault.ServFail(), "name");

        var faulted = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(16, "NAME.internal", RawDns.Aaaa)));
        var other = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(17, "other.internal", RawDns.A)));
        _server.ClearFaults();
        var cleared = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(18, "name.internal", RawDns.A)));

        faulted.ResponseCode.Should().Be((int)DnsResponseCode.ServFail);
        other.ResponseCode.Should().Be((int)DnsResponseCode.NoError);
        cleared.Answers.Should().ContainSingle();
    }

    [Fact]
    public async Task Name_fault_wins_over_a_global_one()
    {
        _server.InjectFault(DnsFault.Refused());
        _server.InjectFault(DnsFault.ServFail(), "name", count: 1);

        var first = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(19, "name.internal", RawDns.A)));
        var second = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(20, "name.internal", RawDns.A)));

        first.ResponseCode.Should().Be((int)DnsResponseCode.ServFail);
        second.ResponseCode.Should().Be((int)DnsResponseCode.Refused);
    }

    [Fact]
    public async Task Fault_for_one_type_leaves_the_other_types_of_the_name_alone()
    {
        _server.AddAddress("name", IPAddress.IPv6Loopback, TimeSpan.FromSeconds(10));
        _server.InjectFault(DnsFault.ServFail(), "name", type: DnsRecordType.AAAA);
        _server.InjectFault(DnsFault.Refused(), type: DnsRecordType.SRV);

        var aaaa = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(21, "name.internal", RawDns.Aaaa)));
        var a = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(22, "name.internal", RawDns.A)));
        var srv = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(23, "other.internal", RawDns.Srv)));
        var otherA = RawDns.Parse(await RawDns.UdpExchangeAsync(_server.EndPoint, RawDns.Query(24, "other.internal", RawDns.A)));

        aaaa.ResponseCode.Should().Be((int)DnsResponseCode.ServFail);
        a.Answers.Should().ContainSingle().Which.Address.Should().Be(Address);
        srv.ResponseCode.Should().Be((int)DnsResponseCode.Refused, "a global fault can be limited to a type too");
        otherA.Answers.Should().ContainSingle();
    }

    [Fact]
    public void Fault_factories_reject_nonsense()
    {
        var negativeDelay = () => DnsFault.Delay(TimeSpan.FromSeconds(-1));
        var noSpoofing = () => DnsFault.SpoofFirst(0);
        var zeroCount = () => _server.InjectFault(DnsFault.Drop(), count: 0);

        negativeDelay.Should().Throw<ArgumentOutOfRangeException>();
        noSpoofing.Should().Throw<ArgumentOutOfRangeException>();
        zeroCount.Should().Throw<ArgumentOutOfRangeException>();
        DnsFault.Delay(TimeSpan.FromSeconds(2)).ToString().Should().Be("Delay(00:00:02)");
    }
}
