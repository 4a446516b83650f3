using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CloudMapDiscovery.Integration.Tests.Infrastructure;

/// <summary>A self-signed server certificate for one DNS name, and a client handler that trusts only it.</summary>
internal static class TestCertificate
{
    public static X509Certificate2 Create(string dnsName)
    {
        // ECDSA: a P-256 key is made in microseconds, an RSA 2048 key in up to a second.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler"/> whose only trusted roots are <paramref name="roots"/>, recording the policy
    /// errors of every validation: <see cref="SslPolicyErrors.None"/> proves the name was checked and matched.
    /// </summary>
    public static SocketsHttpHandler TrustingOnly(List<SslPolicyErrors> errors, params X509Certificate2[] roots)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = policy,
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
    }
}
