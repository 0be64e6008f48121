using System.Security.Cryptography;
using IotPki.Pki;

namespace IotPki.Pki.Tests;

public sealed class CertificateAuthorityTests
{
    private const string Passphrase = "correct horse battery staple";

    [Fact]
    public void A_CA_key_round_trips_through_encrypted_PKCS8_with_the_passphrase()
    {
        using var root = CertificateAuthority.CreateRoot("Test Root", TimeSpan.FromDays(10), DateTimeOffset.UtcNow);
        var pem = root.ExportEncryptedKeyPem(Passphrase);

        using var loaded = CertificateAuthority.Load(root.CertificatePem, pem, Passphrase);

        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", pem);
        Assert.Equal(root.Key.ExportSubjectPublicKeyInfo(), loaded.Key.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void A_wrong_passphrase_is_refused()
    {
        using var root = CertificateAuthority.CreateRoot("Test Root", TimeSpan.FromDays(10), DateTimeOffset.UtcNow);
        var pem = root.ExportEncryptedKeyPem(Passphrase);

        var e = Assert.Throws<CryptographicException>(() => CertificateAuthority.Load(root.CertificatePem, pem, "not the passphrase"));
        Assert.Contains("passphrase", e.Message);
    }

    [Fact]
    public void A_key_that_does_not_match_the_certificate_is_refused()
    {
        using var a = CertificateAuthority.CreateRoot("A", TimeSpan.FromDays(10), DateTimeOffset.UtcNow);
        using var b = CertificateAuthority.CreateRoot("B", TimeSpan.FromDays(10), DateTimeOffset.UtcNow);

        Assert.Throws<CryptographicException>(() => CertificateAuthority.Load(a.CertificatePem, b.ExportEncryptedKeyPem(Passphrase), Passphrase));
    }

    [Fact]
    public void The_issuing_CA_chains_to_the_root_and_cannot_sign_further_CAs()
    {
        var now = DateTimeOffset.UtcNow;
        using var root = CertificateAuthority.CreateRoot("Root", TimeSpan.FromDays(100), now);
        using var issuing = CertificateAuthority.CreateSubordinate("Issuing", TimeSpan.FromDays(1000), now, root);

        Assert.Equal(ChainVerdict.Valid, ChainValidator.Validate(issuing.Certificate, root.Certificate, null, now));
        var constraints = Assert.IsType<System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension>(issuing.Certificate.Extensions["2.5.29.19"]);
        Assert.True(constraints.CertificateAuthority);
        Assert.Equal(0, constraints.PathLengthConstraint);
        Assert.True(issuing.Certificate.NotAfter <= root.Certificate.NotAfter);
    }

    [Fact]
    public void The_passphrase_comes_from_the_environment_value_or_a_file_and_must_not_be_short()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "from-a-file-passphrase\n");

        Assert.Equal("direct-passphrase", CaPassphrase.Resolve("direct-passphrase", null));
        Assert.Equal("from-a-file-passphrase", CaPassphrase.Resolve(null, file));
        Assert.Throws<InvalidOperationException>(() => CaPassphrase.Resolve("short", null));
        Assert.Throws<InvalidOperationException>(() => CaPassphrase.Resolve(null, null));
        File.Delete(file);
    }
}
