using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>Builds bootstrap-style device certificates for tests: <c>TestPki.Device("dev-001").SignedBy(ca).ValidFor(1h).Build()</c>.</summary>
public sealed class TestPki
{
    private readonly string _name;
    private CertificateAuthority? _ca;
    private DateTimeOffset _notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
    private TimeSpan _lifetime = TimeSpan.FromDays(1);
    private string? _subject;

    private TestPki(string name) => _name = name;

    public static TestPki Device(string name) => new(name);

    public static CertificateAuthority NewCa(string name) => CertificateAuthority.CreateRoot(name, TimeSpan.FromDays(365), DateTimeOffset.UtcNow);

    public TestPki SignedBy(CertificateAuthority ca) { _ca = ca; return this; }
    public TestPki From(DateTimeOffset notBefore) { _notBefore = notBefore; return this; }
    public TestPki ValidFor(TimeSpan lifetime) { _lifetime = lifetime; return this; }
    /// <summary>The subject exactly as a manufacturer writes it, instead of <c>CN=&lt;name&gt;</c>.</summary>
    public TestPki WithSubject(string subject) { _subject = subject; return this; }

    public X509Certificate2 Build()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ca = _ca ?? throw new InvalidOperationException("SignedBy is required");
        using var certificate = _subject is null
            ? BootstrapIssuer.Issue(ca, DeviceId.Parse(_name), key, _notBefore, _notBefore + _lifetime)
            : BootstrapIssuer.Issue(ca, new X500DistinguishedName(_subject), key, _notBefore, _notBefore + _lifetime);
        return ECDsaCertificateExtensions.CopyWithPrivateKey(certificate, key);
    }

    /// <summary>A P-256 key and a PKCS#10 CSR for CN=<paramref name="commonName"/>, base64 as EST wants it.</summary>
    public static (ECDsa Key, string CsrBase64) Csr(string commonName)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key, Csr(key, commonName));
    }

    /// <summary>A CSR for a key the caller already holds, as a device asking again sends.</summary>
    public static string Csr(ECDsa key, string commonName) =>
        Convert.ToBase64String(new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256).CreateSigningRequest());

    /// <summary>A self-signed certificate (with key) for CN=<paramref name="commonName"/>, trusted by nobody: the
    /// client certificate of a stranger. The name is built without parsing, so it may hold any character (NUL included).</summary>
    public static X509Certificate2 SelfSigned(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName(commonName);
        return new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    }

    public static void WritePem(X509Certificate2 certificate, string certPath, string keyPath)
    {
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
