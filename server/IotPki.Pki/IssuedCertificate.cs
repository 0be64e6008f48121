using IotPki.Identity;

using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

public sealed record IssuedCertificate(X509Certificate2 Certificate, string SerialHex, CertificateKind Kind, string Name)
{
    public DateTimeOffset NotBefore => new(Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
    public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    public string Pem => Certificate.ExportCertificatePem();
    public string Thumbprint => Certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToLowerInvariant();
}
