using System.Security.Cryptography.X509Certificates;

namespace IotPki.Agent;

/// <summary>A certificate with its private key in the form SslStream can present as a TLS client certificate.</summary>
public static class TlsClientCertificate
{
    /// <summary>Takes ownership of <paramref name="withKey"/>. On Linux (the agent's platform) SslStream uses an
    /// in-memory key as it is. Windows' SChannel cannot use an ephemeral key, so there it goes through a PKCS#12 round
    /// trip, which costs two password-based key derivations: that is what made every EST request and broker connect
    /// cost tens of milliseconds of CPU when it ran on every platform.</summary>
    public static X509Certificate2 From(X509Certificate2 withKey)
    {
        if (!OperatingSystem.IsWindows())
        {
            return withKey;
        }
        using (withKey)
        {
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }
    }
}
