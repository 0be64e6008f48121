using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

/// <summary>A CA certificate with its private key in memory. Created self-signed (root) or signed by a parent.</summary>
public sealed class CertificateAuthority : IDisposable
{
    public X509Certificate2 Certificate { get; }
    public ECDsa Key { get; }

    public CertificateAuthority(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        Key = key;
    }

    public X500DistinguishedName Subject => Certificate.SubjectName;

    /// <summary>A self-signed root over <paramref name="key"/>, which its store generated.</summary>
    public static CertificateAuthority CreateRoot(string commonName, TimeSpan lifetime, DateTimeOffset now, ECDsa key) =>
        Create(commonName, lifetime, now, parent: null, pathLength: 1, key);

    /// <summary>A root whose key lives in memory only (manufacturer CAs of tests and demos).</summary>
    public static CertificateAuthority CreateRoot(string commonName, TimeSpan lifetime, DateTimeOffset now) =>
        CreateRoot(commonName, lifetime, now, ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static CertificateAuthority CreateSubordinate(string commonName, TimeSpan lifetime, DateTimeOffset now, CertificateAuthority parent, ECDsa key) =>
        Create(commonName, lifetime, now, parent, pathLength: 0, key);

    public static CertificateAuthority CreateSubordinate(string commonName, TimeSpan lifetime, DateTimeOffset now, CertificateAuthority parent) =>
        CreateSubordinate(commonName, lifetime, now, parent, ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static CertificateAuthority Load(string certificatePem, string encryptedKeyPem, string passphrase) =>
        Load(certificatePem, EncryptedKeyPem.Import(encryptedKeyPem, passphrase));

    /// <summary>Pairs a CA certificate with the key a store opened, refusing a key that is not the certificate's.</summary>
    public static CertificateAuthority Load(string certificatePem, ECDsa key)
    {
        var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var publicKey = certificate.GetECDsaPublicKey()
            ?? throw new CryptographicException("The CA certificate does not hold an ECDSA key.");
        if (!publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            key.Dispose();
            certificate.Dispose();
            throw new CryptographicException("The CA key does not match the CA certificate.");
        }
        return new CertificateAuthority(certificate, key);
    }

    public string CertificatePem => Certificate.ExportCertificatePem();

    public string ExportEncryptedKeyPem(string passphrase) => EncryptedKeyPem.Export(Key, passphrase);

    private static CertificateAuthority Create(string commonName, TimeSpan lifetime, DateTimeOffset now, CertificateAuthority? parent, int pathLength, ECDsa key)
    {
        var subject = new X500DistinguishedName($"CN={commonName}, O=IotPki");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);

        var notBefore = now - CertificateProfile.ClockSkewAllowance;
        // Signed through the generator, never CreateSelfSigned/CopyWithPrivateKey: those export the private key,
        // which a key in a token refuses. The certificate is kept without its key; the key lives beside it.
        X509Certificate2 certificate;
        if (parent is null)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
            certificate = request.Create(subject, X509SignatureGenerator.CreateForECDsa(key), notBefore, now + lifetime, SerialNumber.NewSerial());
        }
        else
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(parent.Certificate, true, false));
            var notAfter = Min(now + lifetime, parent.Certificate.NotAfter);
            certificate = request.Create(parent.Subject, X509SignatureGenerator.CreateForECDsa(parent.Key), notBefore, notAfter, SerialNumber.NewSerial());
        }
        return new CertificateAuthority(certificate, key);
    }

    internal static DateTimeOffset Min(DateTimeOffset a, DateTime b)
    {
        var bo = new DateTimeOffset(b.ToUniversalTime(), TimeSpan.Zero);
        return a < bo ? a : bo;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }
}
