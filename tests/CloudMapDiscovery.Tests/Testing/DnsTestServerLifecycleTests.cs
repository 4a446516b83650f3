using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Testing;

public sealed class DnsTestServerLifecycleTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Stopped_server_refuses_UDP_and_TCP_and_restarts_on_the_same_port_with_its_records()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddAddress("name", IPAddress.Parse("10.0.0.1"), Ttl);
        var endPoint = server.EndPoint;
        using var idle = await RawDns.ConnectTcpAsync(endPoint);
        await RawDns.SendTcpAsync(idle, RawDns.Query(9, "name.internal", RawDns.A));
        await RawDns.ReceiveTcpAsync(idle);

        await server.StopAsync();

        server.IsRunning.Should().BeFalse();
        using (var udp = RawDns.ConnectUdp(endPoint))
        {
            await udp.SendAsync(RawDns.Query(1, "name.internal", RawDns.A), SocketFlags.None);
            var receive = async () => await RawDns.ReceiveAsync(udp);
            (await receive.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
        }

        var connect = async () => await RawDns.ConnectTcpAsync(endPoint);
        (await connect.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
        (await idle.ReceiveAsync(new byte[2], SocketFlags.None)).Should().Be(0, "open connections are closed");

        await server.RestartAsync();

        server.IsRunning.Should().BeTrue();
        server.EndPoint.Should().Be(endPoint);
        var viaUdp = RawDns.Parse(await RawDns.UdpExchangeAsync(endPoint, RawDns.Query(2, "name.internal", RawDns.A)));
        var viaTcp = RawDns.Parse(await RawDns.TcpExchangeAsync(endPoint, RawDns.Query(3, "name.internal", RawDns.A)));
        viaUdp.Answers.Single().Address.Should().Be(IPAddress.Parse("10.0.0.1"));
        viaTcp.Answers.Single().Address.Should().Be(IPAddress.Parse("10.0.0.1"));
    }

    [Fact]
    public async Task Server_starts_on_a_given_port_and_address()
    {
        await using var first = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var port = first.EndPoint.Port;
        await first.StopAsync();

        await using var second = await DnsTestServer.StartAsync("Corp.Local.", IPAddress.Loopback, port, TestContext.Current.CancellationToken);

        second.EndPoint.Should().Be(new IPEndPoint(IPAddress.Loopback, port));
        second.Zone.Should().Be("corp.local");
        second.ToString().Should().Contain("corp.local");
    }

    [Fact]
    public async Task Server_listens_on_IPv6_loopback()
    {
        Assert.SkipUnless(Socket.OSSupportsIPv6, "This machine has no IPv6.");
        await using var server = await DnsTestServer.StartAsync(address: IPAddress.IPv6Loopback, cancellationToken: TestContext.Current.CancellationToken);
        server.AddAddress("name", IPAddress.Parse("fd00::1"), Ttl);

        var reply = RawDns.Parse(await RawDns.UdpExchangeAsync(server.EndPoint, RawDns.Query(1, "name.internal", RawDns.Aaaa)));

        reply.Answers.Single().Address.Should().Be(IPAddress.Parse("fd00::1"));
    }

    [Fact]
    public async Task Counters_count_per_name_type_and_transport()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddAddress("name", IPAddress.Parse("10.0.0.1"), Ttl);

        await RawDns.UdpExchangeAsync(server.EndPoint, RawDns.Query(1, "name.internal", RawDns.A));
        await RawDns.UdpExchangeAsync(server.EndPoint, RawDns.Query(2, "NAME.internal", RawDns.Aaaa));
        await RawDns.TcpExchangeAsync(server.EndPoint, RawDns.Query(3, "name.internal", RawDns.A));
        await RawDns.UdpExchangeAsync(server.EndPoint, RawDns.Query(4, "missing.internal", RawDns.Srv));
        await RawDns.UdpExchangeAsync(server.EndPoint, RawDns.Query(5, "example.com", RawDns.A));

        server.QueryCount.Should().Be(5);
        server.TcpQueryCount.Should().Be(1);
        server.GetQueryCount("name").Should().Be(3);
        server.GetQueryCount("name.internal", DnsRecordType.A).Should().Be(2);
        server.GetQueryCount("Name.Internal.", DnsRecordType.AAAA).Should().Be(1);
        server.GetQueryCount("missing", DnsRecordType.SRV).Should().Be(1);
        server.GetQueryCount("example.com.").Should().Be(1);

        server.ResetCounts();

        server.QueryCount.Should().Be(0);
        server.TcpQueryCount.Should().Be(0);
        server.GetQueryCount("name").Should().Be(0);
    }

    [Fact]
    public async Task Garbage_is_ignored_or_answered_with_FORMERR_and_the_server_keeps_serving()
    {
        await using var server = await DnsTestServer.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        server.AddAddress("name", IPAddress.Parse("10.0.0.1"), Ttl);
        using var udp = RawDns.ConnectUdp(server.EndPoint);
        var badQuestion = new byte[] { 0, 42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1 };
        var reply = RawDns.Query(7, "name.internal", RawDns.A);
        reply[2] |= 0x80;

        await udp.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None);
        await udp.SendAsync(reply, SocketFlags.None);
        await udp.SendAsync(new byte[] { 0, 43, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 1 }, SocketFlags.None);
        await udp.SendAsync(badQuestion, SocketFlags.None);
        var formErr = RawDns.Parse(await RawDns.ReceiveAsync(udp));
        var secondFormErr = RawDns.Parse(await RawDns.ReceiveAsync(udp));
        await udp.SendAsync(RawDns.Query(8, "name.internal", RawDns.A), SocketFlags.None);
        var answer = RawDns.Parse(await RawDns.ReceiveAsync(udp));

        // The short datagram and the response are ignored: the first reply is to the query cut short.
        (formErr.Id, formErr.ResponseCode).Should().Be(((ushort)43, (int)DnsResponseCode.FormErr));
        (secondFormErr.Id, secondFormErr.ResponseCode).Should().Be(((ushort)42, (int)DnsResponseCode.FormErr), "a pointer to itself is a loop");
        answer.Answers.Single().Address.Should().Be(IPAddress.Parse("10.0.0.1"));

        using var tcp = await RawDns.ConnectTcpAsync(server.EndPoint);
        await tcp.SendAsync(new byte[] { 0, 3, 1, 2, 3 }, SocketFlags.None);
        await RawDns.SendTcpAsync(tcp, RawDns.Query(9, "name.internal", RawDns.A));
        RawDns.Parse(await RawDns.ReceiveTcpAsync(tcp)).Id.Should().Be(9);
    }

    [Fact]
    public async Task Dispose_ends_cleanly_with_delayed_replies_and_open_connections_pending()
    {
        var clock = new SignalingTimeProvider();
        var server = await DnsTestServer.StartAsync(new DnsTestServerOptions { TimeProvider = clock }, TestContext.Current.CancellationToken);
        server.InjectFault(DnsFault.Delay(TimeSpan.FromHours(1)));
        using var udp = RawDns.ConnectUdp(server.EndPoint);
        using var tcp = await RawDns.ConnectTcpAsync(server.EndPoint);
        var udpTimer = clock.NextTimerCreated;
        await udp.SendAsync(RawDns.Query(1, "name.internal", RawDns.A), SocketFlags.None);
        await udpTimer;
        var tcpTimer = clock.NextTimerCreated;
        await RawDns.SendTcpAsync(tcp, RawDns.Query(2, "name.internal", RawDns.A));
        await tcpTimer;

        await server.DisposeAsync();
        server.Dispose();

        server.IsRunning.Should().BeFalse();
        (await tcp.ReceiveAsync(new byte[2], SocketFlags.None)).Should().Be(0);
        var restart = () => server.RestartAsync();
        await restart.Should().ThrowAsync<ObjectDisposedException>();
    }
}
