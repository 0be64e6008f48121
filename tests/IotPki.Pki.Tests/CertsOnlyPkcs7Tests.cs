using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Pki.Tests;

public sealed class CertsOnlyPkcs7Tests
{
    [Fact]
    public void Certificates_round_trip()
    {
        using var a = CertificateAuthority.CreateRoot("A", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        using var b = CertificateAuthority.CreateRoot("B", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);

        var decoded = CertsOnlyPkcs7.Decode(CertsOnlyPkcs7.Encode([a.Certificate, b.Certificate]));

        // DER sorts a SET OF, so the order is the encoding's, not the caller's.
        Assert.Equal(new[] { a.Certificate.Thumbprint, b.Certificate.Thumbprint }.Order(), decoded.Select(c => c.Thumbprint).Order());
    }

    [Fact]
    public void The_encoding_is_a_signed_data_with_no_signers_that_openssl_reads()
    {
        using var a = CertificateAuthority.CreateRoot("Openssl Reads Me", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
        var file = Path.GetTempFileName();
        File.WriteAllBytes(file, CertsOnlyPkcs7.Encode([a.Certificate]));

        var info = new System.Diagnostics.ProcessStartInfo("openssl", ["pkcs7", "-inform", "DER", "-in", file, "-print_certs", "-noout"])
        { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("Openssl Reads Me", output);
        File.Delete(file);
    }

    [Fact]
    public void Csr_attributes_ask_for_P256_and_ECDSA_with_SHA256()
    {
        var reader = new System.Formats.Asn1.AsnReader(CsrAttributes.Encode(), System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var attribute = reader.ReadSequence();
        Assert.Equal("1.2.840.10045.2.1", attribute.ReadObjectIdentifier());
        Assert.Equal("1.2.840.10045.3.1.7", attribute.ReadSetOf().ReadObjectIdentifier());
        Assert.Equal("1.2.840.10045.4.3.2", reader.ReadObjectIdentifier());
    }
}
