using System.Formats.Asn1;

namespace IotPki.Pki;

/// <summary>The <c>/csrattrs</c> answer (RFC 7030 §4.5.2): what a CSR to this service should carry.</summary>
public static class CsrAttributes
{
    public static byte[] Encode()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            // Attribute: extensionRequest, with a P-256 EC key wanted, signed with ecdsa-with-SHA256.
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.2.1");
                using (writer.PushSetOf())
                {
                    writer.WriteObjectIdentifier("1.2.840.10045.3.1.7");
                }
            }
            writer.WriteObjectIdentifier("1.2.840.10045.4.3.2");
        }
        return writer.Encode();
    }
}
