using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;

namespace IotPki.Pki;

/// <summary>A PKCS#10 request whose signature (proof of possession of the key) has been checked, or, for
/// server-side key generation, whose key and signature are placeholders (RFC 7030 §4.4.1).</summary>
public sealed class SigningRequest
{
    public const int MaxDerLength = 48 * 1024;

    public X500DistinguishedName Subject { get; }
    public PublicKey PublicKey { get; }
    public string? CommonName { get; }
    public IReadOnlyList<string> UriNames { get; }

    /// <summary>The challengePassword attribute (PKCS#9), which an EST client fills with the base64 tls-unique value of
    /// its TLS session as proof of possession (RFC 7030 §3.5); null when absent.</summary>
    public string? ChallengePassword { get; private init; }

    /// <summary>How many subjectAltName entries are not URIs (DNS names, IP addresses, …).</summary>
    public int OtherNames { get; private init; }

    /// <summary>The CSR asks for the server-made key to come back encrypted (RFC 7030 §4.4.1.1/§4.4.1.2 attributes).</summary>
    public bool AsksForKeyEncryption { get; private init; }

    /// <summary>ECDSA and RSA (PKCS#1 v1.5 and PSS) over SHA-256, SHA-384 and SHA-512: nothing weaker signs a CSR.</summary>
    private static readonly HashSet<string> SignatureAlgorithms =
    [
        "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",
        "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13", "1.2.840.113549.1.1.10",
    ];

    /// <summary>What the platform's parser throws on input it cannot take: each is a refusal of the input, never a 5xx.</summary>
    private static bool IsMalformed(Exception e) =>
        e is CryptographicException or AsnContentException or NotSupportedException or PlatformNotSupportedException
            or ArgumentException or InvalidOperationException or FormatException or OverflowException;

    /// <summary>id-aa-decryptKeyID and id-aa-asymmDecryptKeyID.</summary>
    private static readonly string[] KeyEncryptionAttributes = ["1.2.840.113549.1.9.16.2.37", "1.2.840.113549.1.9.16.2.54"];

    private SigningRequest(X500DistinguishedName subject, PublicKey publicKey, string? commonName, IReadOnlyList<string> uriNames)
    {
        Subject = subject;
        PublicKey = publicKey;
        CommonName = commonName;
        UriNames = uriNames;
    }

    /// <summary>Parses the base64 body of an EST request (RFC 7030 §4.2.1), whitespace and line breaks allowed.</summary>
    public static SigningRequest FromBase64(ReadOnlySpan<byte> body, KeyProof proof = KeyProof.Required)
    {
        var der = new byte[body.Length];
        var status = System.Buffers.Text.Base64.DecodeFromUtf8(StripWhitespace(body), der, out _, out var written);
        if (status != System.Buffers.OperationStatus.Done || written == 0)
        {
            throw new CsrException(CsrError.MalformedBase64, "The request body is not valid base64.");
        }
        return FromDer(der.AsSpan(0, written), proof);
    }

    public static SigningRequest FromDer(ReadOnlySpan<byte> der, KeyProof proof = KeyProof.Required)
    {
        if (der.Length > MaxDerLength)
        {
            throw new CsrException(CsrError.TooLarge, $"The CSR is larger than {MaxDerLength} bytes.");
        }
        if (proof == KeyProof.Ignored)
        {
            return Placeholder(der);
        }
        CheckSignatureAlgorithm(der);
        CertificateRequest request;
        try
        {
            // One parse that also verifies the signature; only a refusal pays for a second parse to say why.
            request = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out var consumed,
                CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
            if (consumed != der.Length)
            {
                throw new CsrException(CsrError.NotACsr, "The body holds data after the CSR.");
            }
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw Classify(der);
        }
        CheckKey(request.PublicKey);
        return From(request);
    }

    /// <summary>The signatureAlgorithm of the outer CertificationRequest, before anything is verified with it.</summary>
    private static void CheckSignatureAlgorithm(ReadOnlySpan<byte> der)
    {
        string? algorithm;
        try
        {
            var request = new AsnReader(der.ToArray(), AsnEncodingRules.DER).ReadSequence();
            request.ReadEncodedValue();
            algorithm = request.ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            throw new CsrException(CsrError.NotACsr, "The body is not a PKCS#10 certificate signing request.");
        }
        if (!SignatureAlgorithms.Contains(algorithm))
        {
            throw new CsrException(CsrError.UnsupportedSignature,
                $"The CSR is signed with {algorithm}: use ECDSA or RSA with SHA-256, SHA-384 or SHA-512.");
        }
    }

    /// <summary>The server makes the key: the CSR's key and signature are not looked at, only its names.</summary>
    private static SigningRequest Placeholder(ReadOnlySpan<byte> der) => From(LoadUnverified(der));

    private static SigningRequest From(CertificateRequest request)
    {
        try
        {
            var (uris, others) = NamesOf(request.CertificateExtensions);
            return new(request.SubjectName, request.PublicKey, CommonNameOf(request.SubjectName), uris)
            {
                AsksForKeyEncryption = request.OtherRequestAttributes.Any(a => KeyEncryptionAttributes.Contains(a.Oid?.Value)),
                OtherNames = others,
                ChallengePassword = ChallengePasswordOf(request),
            };
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new CsrException(CsrError.NotACsr, "The CSR's subject or attributes are malformed.");
        }
    }

    /// <summary>Parses without checking the signature; a body that is not exactly one CSR is refused.</summary>
    private static CertificateRequest LoadUnverified(ReadOnlySpan<byte> der)
    {
        CertificateRequest request;
        int consumed;
        try
        {
            request = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out consumed,
                CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new CsrException(CsrError.NotACsr, "The body is not a PKCS#10 certificate signing request.");
        }
        if (consumed != der.Length)
        {
            throw new CsrException(CsrError.NotACsr, "The body holds data after the CSR.");
        }
        return request;
    }

    /// <summary>Why a CSR that failed the verified parse is refused.</summary>
    private static CsrException Classify(ReadOnlySpan<byte> der)
    {
        try
        {
            CheckKey(LoadUnverified(der).PublicKey);
            return new CsrException(CsrError.BadSignature, "The CSR signature does not verify: no proof of possession of the key.");
        }
        catch (CsrException e) when (e.Error == CsrError.NotACsr)
        {
            return e;
        }
        catch (Exception e) when (IsMalformed(e))
        {
            return new CsrException(CsrError.NotACsr, "The body is not a PKCS#10 certificate signing request.");
        }
    }

    private static void CheckKey(PublicKey key)
    {
        try
        {
            CheckKnownKey(key);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new CsrException(CsrError.UnsupportedKey, "The CSR key must be ECDSA P-256/P-384 (named curve) or RSA 2048+.");
        }
    }

    private static void CheckKnownKey(PublicKey key)
    {
        switch (key.Oid.Value)
        {
            case "1.2.840.10045.2.1":
                using (var ec = key.GetECDsaPublicKey())
                {
                    var curve = ec?.ExportParameters(false).Curve;
                    if (curve is not { IsNamed: true, Oid.Value: "1.2.840.10045.3.1.7" or "1.3.132.0.34" })
                    {
                        throw new CsrException(CsrError.UnsupportedKey, "The CSR key must be ECDSA P-256 or P-384.");
                    }
                }
                break;
            case "1.2.840.113549.1.1.1":
                using (var rsa = key.GetRSAPublicKey())
                {
                    if (rsa is null || rsa.KeySize < 2048)
                    {
                        throw new CsrException(CsrError.UnsupportedKey, "An RSA key in a CSR must be at least 2048 bits.");
                    }
                    if (rsa.ExportParameters(false).Exponent is not { } exponent || new System.Numerics.BigInteger(exponent, isUnsigned: true, isBigEndian: true) < 65537)
                    {
                        throw new CsrException(CsrError.UnsupportedKey, "An RSA key in a CSR must have a public exponent of at least 65537.");
                    }
                }
                break;
            default:
                throw new CsrException(CsrError.UnsupportedKey, "The CSR key must be ECDSA P-256/P-384 or RSA 2048+.");
        }
    }

    private static string? ChallengePasswordOf(CertificateRequest request)
    {
        var attribute = request.OtherRequestAttributes.FirstOrDefault(a => a.Oid?.Value == "1.2.840.113549.1.9.7");
        if (attribute is null)
        {
            return null;
        }
        var reader = new AsnReader(attribute.RawData, AsnEncodingRules.DER);
        var tag = reader.PeekTag();
        var kind = tag.TagValue switch
        {
            (int)UniversalTagNumber.UTF8String => UniversalTagNumber.UTF8String,
            (int)UniversalTagNumber.PrintableString => UniversalTagNumber.PrintableString,
            (int)UniversalTagNumber.IA5String => UniversalTagNumber.IA5String,
            _ => throw new CsrException(CsrError.NotACsr, "The CSR's challengePassword is not a string."),
        };
        return reader.ReadCharacterString(kind);
    }

    /// <summary>The subject's one CN; a subject with two is refused rather than read either way.</summary>
    internal static string? CommonNameOf(X500DistinguishedName name)
    {
        string? found = null;
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == "2.5.4.3")
            {
                if (found is not null)
                {
                    throw new CsrException(CsrError.NotACsr, "The CSR subject holds more than one CN.");
                }
                found = rdn.GetSingleElementValue();
            }
        }
        return found;
    }

    private static (IReadOnlyList<string> Uris, int Others) NamesOf(IEnumerable<X509Extension> extensions)
    {
        var san = extensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17");
        if (san is null)
        {
            return ([], 0);
        }
        try
        {
            return SubjectAlternativeNames.Read(san.RawData);
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            throw new CsrException(CsrError.NotACsr, "The CSR's subjectAltName extension is malformed.");
        }
    }

    private static ReadOnlySpan<byte> StripWhitespace(ReadOnlySpan<byte> body)
    {
        if (body.IndexOfAny((byte)' ', (byte)'\r', (byte)'\n') < 0 && body.IndexOf((byte)'\t') < 0)
        {
            return body;
        }
        var buffer = new byte[body.Length];
        var n = 0;
        foreach (var b in body)
        {
            if (b is not ((byte)' ' or (byte)'\r' or (byte)'\n' or (byte)'\t'))
            {
                buffer[n++] = b;
            }
        }
        return buffer.AsSpan(0, n);
    }
}
