using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Identity;

/// <summary>The degenerate "certs-only" CMS SignedData of RFC 7030 §4.1.3 / §4.2.3: certificates, no signers.</summary>
public static class CertsOnlyPkcs7
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string DataOid = "1.2.840.113549.1.7.1";

    public static byte[] Encode(IEnumerable<X509Certificate2> certificates)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SignedDataOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            {
                writer.WriteInteger(1);
                using (writer.PushSetOf()) { }
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(DataOid);
                }
                using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    foreach (var certificate in certificates)
                    {
                        writer.WriteEncodedValue(certificate.RawData);
                    }
                }
                using (writer.PushSetOf()) { }
            }
        }
        return writer.Encode();
    }

    public static string EncodeBase64(IEnumerable<X509Certificate2> certificates) =>
        Convert.ToBase64String(Encode(certificates), Base64FormattingOptions.InsertLineBreaks) + "\n";

    /// <summary>Reads the certificates of a certs-only SignedData (DER or BER, RFC 5652 §5.1); a malformed one is a
    /// <see cref="FormatException"/>.</summary>
    public static List<X509Certificate2> Decode(ReadOnlyMemory<byte> der)
    {
        try
        {
            var content = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            if (content.ReadObjectIdentifier() != SignedDataOid)
            {
                throw new FormatException("The PKCS#7 content is not SignedData.");
            }
            var signedData = content.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)).ReadSequence();
            signedData.ReadInteger();
            signedData.ReadSetOf();
            signedData.ReadSequence();
            var certificates = new List<X509Certificate2>();
            var certificatesTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (signedData.HasData && signedData.PeekTag().HasSameClassAndValue(certificatesTag))
            {
                var set = signedData.ReadSetOf(skipSortOrderValidation: true, certificatesTag);
                while (set.HasData)
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(set.ReadEncodedValue().Span));
                }
            }
            return certificates;
        }
        catch (AsnContentException e)
        {
            throw new FormatException("The PKCS#7 content is not valid DER.", e);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new FormatException("The PKCS#7 content holds a certificate that does not parse.", e);
        }
    }

    /// <summary>The certificates of a base64 certs-only answer, line breaks and all.</summary>
    public static List<X509Certificate2> DecodeBase64(string body) =>
        Decode(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c)))));
}
