using System.Formats.Asn1;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Agent;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Fuzz;

/// <summary>Each parser of network input with the refusal it documents: any other exception is a crash for afl.</summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["csr"] = data => Refuses<CsrException>(() => SigningRequest.FromDer(data)),
        ["csr-base64"] = data => Refuses<CsrException>(() => SigningRequest.FromBase64(data)),
        ["certs-only"] = data => Refuses<FormatException>(() => CertsOnlyPkcs7.Decode(data).ForEach(c => c.Dispose())),
        ["serverkeygen-answer"] = data => Refuses<FormatException>(() =>
        {
            var (key, certificate) = ServerKeyGenAnswer.Read(MediaTypeHeaderValue.Parse("multipart/mixed; boundary=\"b-1\""), data);
            key.Dispose();
            certificate.Dispose();
        }),
        ["subject-alt-name"] = data => Refuses<AsnContentException>(() => SubjectAlternativeNames.Read(data)),
        ["client-certificate"] = ClientCertificate,
        ["ocsp-request"] = OcspRequest.Answer,
    };

    private static void ClientCertificate(byte[] data)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(data);
        }
        catch (CryptographicException)
        {
            return;
        }
        using (certificate)
        {
            _ = certificate.Subject;  // the enrollment row keeps it
            _ = CertificateIdentifiers.AuthorityKeyId(certificate);
            _ = SubjectAlternativeNames.Uris(certificate).ToList();
            _ = SpiffeId.InCertificate(certificate, "iotpki.local", CertificateKind.Operational, CertificateKind.Operator);
            _ = BootstrapIdentity.TryReadDeviceId(certificate, DeviceIdField.CommonName, out _);
            _ = BootstrapIdentity.TryReadDeviceId(certificate, DeviceIdField.SerialNumber, out _);
        }
    }

    private static void Refuses<TRefusal>(Action parse) where TRefusal : Exception
    {
        try
        {
            parse();
        }
        catch (TRefusal)
        {
        }
    }
}
