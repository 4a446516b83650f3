using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>HTTPS to task addresses keeps the service name for SNI and for the certificate check (facts.md, aspire#3991).</summary>
[Collection(HttpTestGroup.Name)]
public sealed class HttpsTests
{
    [Fact]
    public async Task HTTPS_to_task_addresses_sends_SNI_for_the_name_and_validates_the_certificate_against_it()
    {
        using var cert = CreateCertificate("name.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await DiscoveryHarness.StartAsync(2, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TrustingOnly(cert, errors)), certificate: cert);
        using var client = h.CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await client.GetStringAsync(h.Url("/sni", scheme: "https")));
        }

        answers.Should().AllBe("name.internal", "each task saw SNI name.internal, not its address");
        h.Fleet.Hits(0).Should().Be(2);
        h.Fleet.Hits(1).Should().Be(2);
        h.Fleet.SniNames.Should().HaveCount(2, "one TLS connection per address, reused").And.AllBe("name.internal");
        errors.Should().HaveCount(2).And.AllBeEquivalentTo(SslPolicyErrors.None, "the certificate carries name.internal only, so the name was checked, not an address");
        (await client.GetStringAsync(h.Url("/host", scheme: "https"))).Should().Be($"name.internal:{h.Fleet.Port}");
    }

    [Fact]
    public async Task A_certificate_for_another_name_fails_validation()
    {
        using var cert = CreateCertificate("other.internal");
        var errors = new List<SslPolicyErrors>();
        await using var h = await DiscoveryHarness.StartAsync(2, client: b => b.ConfigurePrimaryHttpMessageHandler(() => TrustingOnly(cert, errors)), certificate: cert);
        using var client = h.CreateClient();

        var call = () => client.GetStringAsync(h.Url("/sni", scheme: "https"));

        var thrown = (await call.Should().ThrowAsync<HttpRequestException>()).Which;
        Flatten(thrown).OfType<AuthenticationException>().Should().NotBeEmpty();
        errors.Should().NotBeEmpty().And.OnlyContain(e => e == SslPolicyErrors.RemoteCertificateNameMismatch, "the chain is trusted; only the name differs");
        h.Fleet.SniNames.Should().NotBeEmpty().And.AllBe("name.internal");
        h.Fleet.TotalHits.Should().Be(0, "no request was sent over an unverified connection");
    }

    private static SocketsHttpHandler TrustingOnly(X509Certificate2 cert, List<SslPolicyErrors> errors) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { cert },
                RevocationMode = X509RevocationMode.NoCheck,
            },
            RemoteCertificateValidationCallback = (_, _, _, e) =>
            {
                lock (errors)
                {
                    errors.Add(e);
                }

                return e == SslPolicyErrors.None;
            },
        },
    };

    private static IEnumerable<Exception> Flatten(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private static X509Certificate2 CreateCertificate(string dnsName)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
