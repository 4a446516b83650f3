using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>HTTPS to task addresses keeps the service name for SNI and for the certificate check (facts.md, aspire#3991).</summary>
[Collection(HttpTestGroup.Name)]
public sealed class HttpsTests
{
    [Fact]
    public async Task HTTPS_to_task_addresses_sends_SNI_for_the_name_and_validates_the_certificate_against_it()
    {
        using var cert = TestCertificate.Create("name.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await DiscoveryHarness.StartAsync(2, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TestCertificate.TrustingOnly(errors, cert)), certificate: cert);
        using var client = h.CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await client.GetStringAsync(h.Url("/sni", scheme: "https"), TestContext.Current.CancellationToken));
        }

        answers.Should().AllBe("name.internal", "each task saw SNI name.internal, not its address");
        h.Fleet.Hits(0).Should().Be(2);
        h.Fleet.Hits(1).Should().Be(2);
        h.Fleet.SniNames.Should().HaveCount(2, "one TLS connection per address, reused").And.AllBe("name.internal");
        errors.Should().HaveCount(2).And.AllBeEquivalentTo(SslPolicyErrors.None, "the certificate carries name.internal only, so the name was checked, not an address");
        (await client.GetStringAsync(h.Url("/host", scheme: "https"), TestContext.Current.CancellationToken)).Should().Be($"name.internal:{h.Fleet.Port}");
    }

    [Fact]
    public async Task A_certificate_for_another_name_fails_validation()
    {
        using var cert = TestCertificate.Create("other.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await DiscoveryHarness.StartAsync(2, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TestCertificate.TrustingOnly(errors, cert)), certificate: cert);
        using var client = h.CreateClient();

        var call = () => client.GetStringAsync(h.Url("/sni", scheme: "https"));

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        Flatten(thrown).OfType<AuthenticationException>().Should().NotBeEmpty();
        errors.Should().NotBeEmpty().And.OnlyContain(e => e == SslPolicyErrors.RemoteCertificateNameMismatch, "the chain is trusted; only the name differs");
        h.Fleet.SniNames.Should().NotBeEmpty().And.AllBe("name.internal");
        h.Fleet.TotalHits.Should().Be(0, "no request was sent over an unverified connection");
    }

    private static IEnumerable<Exception> Flatten(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
