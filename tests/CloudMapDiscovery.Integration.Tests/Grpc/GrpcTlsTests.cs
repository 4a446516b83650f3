using System.Net.Security;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Integration.Tests.Grpc;

/// <summary>
/// gRPC over TLS to task addresses: the connection goes to the address the handler picked, while SNI, the certificate
/// check and <c>:authority</c> all use the name (SocketsHttpHandler takes the TLS name and, over HTTP/2,
/// <c>:authority</c> from the Host header the handler sets).
/// </summary>
[Collection(IntegrationGroup.Name)]
public sealed class GrpcTlsTests
{
    [Fact]
    public async Task Calls_over_TLS_send_the_name_as_SNI_and_authority_and_validate_the_certificate_against_it()
    {
        using var certificate = TestCertificate.Create("name.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await GrpcHarness.StartAsync(
            2, _ => certificate, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TestCertificate.TrustingOnly(errors, certificate)));
        var client = h.Client;

        var replies = new List<WhoReply>();
        for (var i = 0; i < 6; i++)
        {
            replies.Add(await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken));
        }

        replies[0].Task.Should().NotBe(replies[1].Task);
        replies.Select(r => r.Task).Should().Equal(replies[0].Task, replies[1].Task, replies[0].Task, replies[1].Task, replies[0].Task, replies[1].Task);
        replies.Should().AllSatisfy(r =>
        {
            r.Sni.Should().Be("name.internal", "SNI names the service, not the address");
            r.Authority.Should().Be(h.Authority);
        });
        h.Tasks.Tasks.Handshakes.Select(x => x.Task).Should().BeEquivalentTo([0, 1], "one TLS connection per task, reused by every call");
        errors.Should().Equal([SslPolicyErrors.None, SslPolicyErrors.None], "each certificate was checked against name.internal, and matched");
    }

    [Fact]
    public async Task A_certificate_for_another_name_fails_the_call_before_anything_reaches_a_task()
    {
        using var certificate = TestCertificate.Create("other.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await GrpcHarness.StartAsync(
            2, _ => certificate, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TestCertificate.TrustingOnly(errors, certificate)));

        var call = () => h.Client.WhoAsync(new WhoRequest()).ResponseAsync;

        // grpc-dotnet maps an AuthenticationException (not an IOException or SocketException) to Internal.
        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Internal);
        errors.Should().NotBeEmpty().And.OnlyContain(e => e == SslPolicyErrors.RemoteCertificateNameMismatch, "the chain is trusted; only the name differs");
        h.Tasks.Tasks.Handshakes.Should().OnlyContain(x => x.Sni == "name.internal");
        h.Tasks.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task A_call_whose_TLS_handshake_fails_is_retried_on_another_task()
    {
        using var good = TestCertificate.Create("name.internal");
        using var bad = TestCertificate.Create("other.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await GrpcHarness.StartAsync(
            2, task => task == 0 ? bad : good, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TestCertificate.TrustingOnly(errors, good, bad)));
        var client = h.Client;

        var replies = new List<WhoReply>();
        for (var i = 0; i < 4; i++)
        {
            replies.Add(await client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken));
        }

        replies.Should().OnlyContain(r => r.Task == "127.0.0.3", "the handshake with task 0 failed before any byte of a call was sent");
        h.Tasks.Calls(0).Should().Be(0);
        h.Endpoint(0).RequestsPicked.Should().BeGreaterThan(0, "round robin did send a call to task 0 first");
    }
}
