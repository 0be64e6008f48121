using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Agent;

/// <summary>Reads the certificates of a certs-only CMS SignedData (RFC 7030 answers, RFC 5652 §5.1).</summary>
public static class CertsOnlyPkcs7Reader
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";

    public static List<X509Certificate2> Read(ReadOnlyMemory<byte> der)
    {
        try
        {
            var contentInfo = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            if (contentInfo.ReadObjectIdentifier() != SignedDataOid)
            {
                throw new FormatException("The PKCS#7 content is not SignedData.");
            }
            var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
            signedData.ReadInteger();
            signedData.ReadSetOf();
            signedData.ReadSequence();
            var result = new List<X509Certificate2>();
            var certificatesTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (signedData.HasData && signedData.PeekTag().HasSameClassAndValue(certificatesTag))
            {
                var certificates = signedData.ReadSetOf(skipSortOrderValidation: true, certificatesTag);
                while (certificates.HasData)
                {
                    result.Add(X509CertificateLoader.LoadCertificate(certificates.ReadEncodedValue().Span));
                }
            }
            return result;
        }
        catch (AsnContentException e)
        {
            throw new FormatException("The PKCS#7 answer is not valid DER.", e);
        }
    }

    public static List<X509Certificate2> ReadBase64(string body) =>
        Read(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c)))));
}
