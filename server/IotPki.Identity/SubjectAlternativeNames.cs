using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Identity;

/// <summary>Reads the URI names (GeneralName [6]) of a subjectAltName extension.</summary>
public static class SubjectAlternativeNames
{
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    public static IEnumerable<string> Uris(byte[] extensionValue) => Read(extensionValue).Uris;

    /// <summary>The URI names, and how many names of other kinds (DNS, IP, email, …) the extension holds.</summary>
    public static (IReadOnlyList<string> Uris, int Others) Read(byte[] extensionValue)
    {
        var reader = new AsnReader(extensionValue, AsnEncodingRules.DER);
        var names = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        var uris = new List<string>();
        var others = 0;
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.HasSameClassAndValue(UriTag))
            {
                uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
            }
            else
            {
                names.ReadEncodedValue();
                others++;
            }
        }
        return (uris, others);
    }

    /// <summary>The URI names of a certificate; a subjectAltName that is not DER (BER, garbage) names nothing, so a
    /// hostile client certificate is merely no one, never an error.</summary>
    public static IEnumerable<string> Uris(X509Certificate2 certificate)
    {
        try
        {
            var san = certificate.Extensions["2.5.29.17"];
            return san is null ? [] : Uris(san.RawData);
        }
        catch (Exception e) when (e is AsnContentException or System.Security.Cryptography.CryptographicException)
        {
            return [];
        }
    }
}
