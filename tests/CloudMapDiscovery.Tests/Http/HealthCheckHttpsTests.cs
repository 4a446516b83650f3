using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// A health check over https, against a real Kestrel task with a self-signed certificate for <c>name.internal</c>:
/// the certificate is checked against the service's name, not the task's address.
/// </summary>
[Collection(HttpTestGroup.Name)]
public sealed class HealthCheckHttpsTests
{
    [Fact]
    public async Task An_https_health_check_passes_when_the_certificate_names_the_service_and_fails_for_another_name()
    {
        using var cert = TestCertificate.Create("name.internal");
        await using var fleet = await TaskFleet.StartAsync(1, cert);
        var target = new IPEndPoint(fleet.Addresses[0], fleet.Port);
        var errors = new List<SslPolicyErrors>();

        using (var check = Check("name.internal", cert, errors))
        {
            (await check.RunAsync(target, TestContext.Current.CancellationToken, CancellationToken.None)).Should().BeNull();
        }

        fleet.HealthHits(0).Should().Be(1);
        fleet.SniNames.Should().ContainSingle().Which.Should().Be("name.internal");
        errors.Should().Equal([SslPolicyErrors.RemoteCertificateChainErrors], "self-signed, but the name matched");

        fleet.AnswerHealth(0, 503);
        using (var check = Check("name.internal", cert, errors))
        {
            (await check.RunAsync(target, TestContext.Current.CancellationToken, CancellationToken.None)).Should().Be("/health answered 503");
        }

        using (var check = Check("other.internal", cert, errors))
        {
            (await check.RunAsync(target, TestContext.Current.CancellationToken, CancellationToken.None)).Should().Be("/health failed: SecureConnectionError");
        }

        errors[^1].Should().HaveFlag(SslPolicyErrors.RemoteCertificateNameMismatch, "the certificate was checked against other.internal");
        fleet.HealthHits(0).Should().Be(2, "a check whose certificate fails sends nothing");
    }

    // Trusts the test's own certificate in place of a root: every other verdict of the system's check stands.
    private static EndpointCheck Check(string host, X509Certificate2 cert, List<SslPolicyErrors> errors)
        => new(host, "https", "/health", TimeSpan.FromSeconds(10), new TestClock(), (_, presented, _, e) =>
        {
            lock (errors)
            {
                errors.Add(e);
            }

            var ours = presented is not null && presented.GetCertHashString() == cert.GetCertHashString();
            return e == SslPolicyErrors.None || (ours && e == SslPolicyErrors.RemoteCertificateChainErrors);
        });
}
