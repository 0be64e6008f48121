using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Pki;

namespace IotPki.Pki.Tests;

public sealed class SigningRequestTests
{
    private static byte[] Csr(string subject, AsymmetricAlgorithm? key = null, Action<CertificateRequest>? extend = null)
    {
        var ec = key as ECDsa ?? ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsa
            ? new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, ec, HashAlgorithmName.SHA256);
        extend?.Invoke(request);
        return request.CreateSigningRequest();
    }

    private static byte[] Base64Lines(byte[] der) =>
        Encoding.ASCII.GetBytes(Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\r\n");

    [Fact]
    public void A_valid_CSR_in_base64_with_line_breaks_parses_with_its_names()
    {
        var der = Csr("CN=dev-0001", extend: r =>
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddUri(new Uri("spiffe://iotpki.local/device/dev-0001"));
            r.CertificateExtensions.Add(san.Build());
        });

        var csr = SigningRequest.FromBase64(Base64Lines(der));

        Assert.Equal("dev-0001", csr.CommonName);
        Assert.Equal(["spiffe://iotpki.local/device/dev-0001"], csr.UriNames);
    }

    [Fact]
    public void Malformed_base64_is_refused() =>
        Assert.Equal(CsrError.MalformedBase64, Assert.Throws<CsrException>(() => SigningRequest.FromBase64("%%%"u8)).Error);

    [Fact]
    public void A_body_that_is_not_a_CSR_is_refused() =>
        Assert.Equal(CsrError.NotACsr, Assert.Throws<CsrException>(() => SigningRequest.FromDer([0x30, 0x03, 0x02, 0x01, 0x01])).Error);

    [Fact]
    public void A_CSR_with_a_broken_signature_is_refused_for_lack_of_proof_of_possession()
    {
        var der = Csr("CN=dev-0001");
        der[^3] ^= 0x01;

        Assert.Equal(CsrError.BadSignature, Assert.Throws<CsrException>(() => SigningRequest.FromDer(der)).Error);
    }

    [Fact]
    public void A_CSR_whose_key_is_swapped_fails_the_proof_of_possession()
    {
        using var a = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var b = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signedByA = new CertificateRequest("CN=dev-0001", a, HashAlgorithmName.SHA256);
        var der = signedByA.CreateSigningRequest(X509SignatureGenerator.CreateForECDsa(b));

        Assert.Equal(CsrError.BadSignature, Assert.Throws<CsrException>(() => SigningRequest.FromDer(der)).Error);
    }

    [Fact]
    public void For_serverkeygen_the_placeholder_key_and_signature_are_ignored_but_the_names_are_read()
    {
        using var rsa1024 = RSA.Create(1024);
        var der = Csr("CN=dev-0001", rsa1024);
        der[^3] ^= 0x01;

        var csr = SigningRequest.FromDer(der, KeyProof.Ignored);

        Assert.Equal("dev-0001", csr.CommonName);
        Assert.Equal(CsrError.NotACsr, Assert.Throws<CsrException>(() => SigningRequest.FromDer([0x30, 0x03, 0x02, 0x01, 0x01], KeyProof.Ignored)).Error);
    }

    [Fact]
    public void A_serverkeygen_CSR_asking_for_an_encrypted_key_is_recognised()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var asking = new CertificateRequest("CN=dev-0001", key, HashAlgorithmName.SHA256);
        asking.OtherRequestAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.16.2.54", [0x04, 0x02, 0x01, 0x02]));

        Assert.True(SigningRequest.FromDer(asking.CreateSigningRequest(), KeyProof.Ignored).AsksForKeyEncryption);
        Assert.False(SigningRequest.FromDer(Csr("CN=dev-0001"), KeyProof.Ignored).AsksForKeyEncryption);
    }

    [Fact]
    public void Weak_and_unsupported_keys_are_refused()
    {
        using var rsa1024 = RSA.Create(1024);
        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);

        Assert.Equal(CsrError.UnsupportedKey, Assert.Throws<CsrException>(() => SigningRequest.FromDer(Csr("CN=x", rsa1024))).Error);
        Assert.Equal(CsrError.UnsupportedKey, Assert.Throws<CsrException>(() => SigningRequest.FromDer(Csr("CN=x", p521))).Error);
    }

    [Fact]
    public void An_oversized_body_is_refused()
    {
        var big = new byte[SigningRequest.MaxDerLength + 1];
        Assert.Equal(CsrError.TooLarge, Assert.Throws<CsrException>(() => SigningRequest.FromDer(big)).Error);
    }

    [Fact]
    public void Trailing_data_after_the_CSR_is_refused()
    {
        var der = Csr("CN=dev-0001").Concat(new byte[] { 0x05, 0x00 }).ToArray();
        Assert.Equal(CsrError.NotACsr, Assert.Throws<CsrException>(() => SigningRequest.FromDer(der)).Error);
    }
}
