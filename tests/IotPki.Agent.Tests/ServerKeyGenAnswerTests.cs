using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Agent;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Agent.Tests;

/// <summary>What the agent accepts as a <c>serverkeygen</c> answer: a key and its certificate, nothing less, nothing odd.</summary>
public sealed class ServerKeyGenAnswerTests
{
    private static readonly MediaTypeHeaderValue Multipart = MediaTypeHeaderValue.Parse("multipart/mixed; boundary=\"b-1\"");

    private static (ECDsa Key, X509Certificate2 Certificate) Issue()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=dev-0001", key, HashAlgorithmName.SHA256);
        return (key, request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1)));
    }

    private static byte[] Body(params (string Type, byte[] Der)[] parts)
    {
        var text = new StringBuilder("preamble\r\n");
        foreach (var (type, der) in parts)
        {
            text.Append($"--b-1\r\nContent-Type: {type}\r\nContent-Transfer-Encoding: base64\r\n\r\n")
                .Append(Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(text.Append("--b-1--\r\n").ToString());
    }

    [Fact]
    public void A_key_part_and_a_certs_only_part_give_the_key_with_its_certificate()
    {
        var (key, certificate) = Issue();
        using (key)
        using (certificate)
        {
            var body = Body(("application/pkcs8", key.ExportPkcs8PrivateKey()),
                ("application/pkcs7-mime; smime-type=certs-only", CertsOnlyPkcs7.Encode([certificate])));

            var (readKey, readCertificate) = ServerKeyGenAnswer.Read(Multipart, body);

            using (readKey)
            using (readCertificate)
            {
                Assert.Equal(certificate.Thumbprint, readCertificate.Thumbprint);
                Assert.Equal(key.ExportSubjectPublicKeyInfo(), readKey.ExportSubjectPublicKeyInfo());
            }
        }
    }

    [Fact]
    public void Answers_that_are_incomplete_mismatched_or_not_multipart_are_refused_as_malformed()
    {
        var (key, certificate) = Issue();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using (key)
        using (certificate)
        {
            var certs = ("application/pkcs7-mime; smime-type=certs-only", CertsOnlyPkcs7.Encode([certificate]));
            Assert.Throws<FormatException>(() => ServerKeyGenAnswer.Read(Multipart, Body(certs)));
            Assert.Throws<FormatException>(() => ServerKeyGenAnswer.Read(Multipart, Body(("application/pkcs8", other.ExportPkcs8PrivateKey()), certs)));
            Assert.Throws<FormatException>(() => ServerKeyGenAnswer.Read(Multipart, Body(("application/pkcs8", [0x30, 0x01, 0x00]), certs)));
            Assert.Throws<FormatException>(() => ServerKeyGenAnswer.Read(MediaTypeHeaderValue.Parse("application/pkcs7-mime"), Body(certs)));
            Assert.Throws<FormatException>(() => ServerKeyGenAnswer.Read(MediaTypeHeaderValue.Parse("multipart/mixed"), Body(certs)));
            var unterminated = Encoding.ASCII.GetBytes("--b-1\r\nContent-Type: application/pkcs8\r\n\r\nMIIB");
            Assert.Throws<FormatException>(() => ServerKeyGenAnswer.Read(Multipart, unterminated));
        }
    }
}
