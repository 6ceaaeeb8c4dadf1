using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Resilient.WebSockets.IntegrationTests.Infrastructure;

/// <summary>Certificates made in the test, for a TLS server on 127.0.0.1.</summary>
public static class TestCertificate
{
    /// <summary>A self-signed server certificate for 127.0.0.1, valid for an hour.</summary>
    public static X509Certificate2 SelfSigned() => Create("CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", IPAddress.Loopback);

    /// <summary>A self-signed client certificate (client authentication), with its private key, valid for an hour.</summary>
    public static X509Certificate2 SelfSignedClient() => Create("CN=test client", "1.3.6.1.5.5.7.3.2", address: null);

    private static X509Certificate2 Create(string subject, string usage, IPAddress? address)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (address is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(address);
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
#if NET9_0_OR_GREATER
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
#else
        return new X509Certificate2(created.Export(X509ContentType.Pfx));
#endif
    }
}
