using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Identity;
using IotPki.Pki;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;

namespace IotPki.Fuzz;

/// <summary>A valid sample of each target's input: where afl starts mutating from.</summary>
public static class Seeds
{
    public static void Write(string directory)
    {
        foreach (var (target, sample) in Samples())
        {
            Directory.CreateDirectory(Path.Combine(directory, target));
            File.WriteAllBytes(Path.Combine(directory, target, "valid"), sample);
        }
    }

    /// <summary>Each target's valid sample, by target name.</summary>
    public static IReadOnlyDictionary<string, byte[]> Samples()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fuzz-0001", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri("spiffe://iotpki.local/device/fuzz-0001"));
        request.CertificateExtensions.Add(san.Build());
        var csr = request.CreateSigningRequest();
        using var root = CertificateAuthority.CreateRoot("Fuzz Root", TimeSpan.FromDays(3650), DateTimeOffset.UtcNow.AddDays(-1));
        using var issuing = CertificateAuthority.CreateSubordinate("Fuzz Issuing", TimeSpan.FromDays(3000), DateTimeOffset.UtcNow.AddDays(-1), root);
        var issuer = new CertificateIssuer(issuing,
            new PkiEndpoints(new Uri("http://pki.example/crl/issuing.crl"), new Uri("http://pki.example/ocsp"), "iotpki.local"), TimeProvider.System);
        var issued = issuer.Issue(CertificateProfile.Operational(TimeSpan.FromDays(1)), "fuzz-0001", new PublicKey(key));
        using var leaf = issued.Certificate;
        var certsOnly = CertsOnlyPkcs7.Encode([leaf]);
        var multipart = new StringBuilder("--b-1\r\nContent-Type: application/pkcs8\r\n\r\n")
            .Append(Convert.ToBase64String(key.ExportPkcs8PrivateKey())).Append("\r\n--b-1\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n\r\n")
            .Append(Convert.ToBase64String(certsOnly)).Append("\r\n--b-1--\r\n").ToString();
        var generator = new OcspReqGenerator();
        generator.AddRequest(new CertificateID(new AlgorithmIdentifier(Org.BouncyCastle.Asn1.Oiw.OiwObjectIdentifiers.IdSha1, DerNull.Instance),
            new Org.BouncyCastle.X509.X509Certificate(issuing.Certificate.RawData), new Org.BouncyCastle.Math.BigInteger(leaf.SerialNumber, 16)));
        var extensions = new X509ExtensionsGenerator();
        extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(new byte[16]));
        generator.SetRequestExtensions(extensions.Generate());

        return new Dictionary<string, byte[]>
        {
            ["csr"] = csr,
            ["csr-base64"] = Encoding.ASCII.GetBytes(Convert.ToBase64String(csr, Base64FormattingOptions.InsertLineBreaks)),
            ["certs-only"] = certsOnly,
            ["serverkeygen-answer"] = Encoding.ASCII.GetBytes(multipart),
            ["subject-alt-name"] = leaf.Extensions["2.5.29.17"]!.RawData,
            ["client-certificate"] = leaf.RawData,
            ["ocsp-request"] = generator.Generate().GetEncoded(),
        };
    }
}
