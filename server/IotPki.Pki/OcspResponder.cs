using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;
using BcCertificateStatus = Org.BouncyCastle.Ocsp.CertificateStatus;

namespace IotPki.Pki;

/// <summary>An RFC 6960 OCSP responder for the issuing CAs. Answers good, revoked (time and reason) or unknown per
/// CertID, echoes the nonce, and signs with the issuing CA's own key (responder id by key hash). Bad requests get a
/// <c>malformedRequest</c> response, never an exception.</summary>
public sealed class OcspResponder
{
    /// <summary>More CertIDs than this in one request is refused as malformed: one request, one bounded lookup.</summary>
    public const int MaxCertIdsPerRequest = 64;

    private const int MaxNonceLength = 32; // RFC 8954 §2.1

    private readonly ICertificateStatusSource _source;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _validity;
    private readonly IssuerSigner[] _issuers;

    /// <summary>An issuing CA as a responder: it signs answers about the certificates it issued (RFC 6960 §2.2).</summary>
    private sealed class IssuerSigner
    {
        public CertificateAuthority Ca { get; }
        public BcCertificate[] Chain { get; }
        public RespID ResponderId { get; }
        public EcdsaSignatureFactory Signer { get; }
        private readonly Dictionary<string, (byte[] NameHash, byte[] KeyHash)> _hashes;

        public IssuerSigner(CertificateAuthority ca)
        {
            Ca = ca;
            var issuer = new BcCertificate(ca.Certificate.RawData);
            Chain = [issuer];
            ResponderId = new RespID(issuer.GetPublicKey());
            Signer = new EcdsaSignatureFactory(ca.Key);
            var name = issuer.SubjectDN.GetEncoded(Asn1Encodable.Der);
            var key = issuer.CertificateStructure.SubjectPublicKeyInfo.PublicKey.GetBytes();
            _hashes = new()
            {
                [OiwObjectIdentifiers.IdSha1.Id] = (SHA1.HashData(name), SHA1.HashData(key)),
                [NistObjectIdentifiers.IdSha256.Id] = (SHA256.HashData(name), SHA256.HashData(key)),
                [NistObjectIdentifiers.IdSha384.Id] = (SHA384.HashData(name), SHA384.HashData(key)),
                [NistObjectIdentifiers.IdSha512.Id] = (SHA512.HashData(name), SHA512.HashData(key)),
            };
        }

        public bool Issued(CertificateID id) =>
            _hashes.TryGetValue(id.HashAlgOid, out var hashes)
            && hashes.NameHash.AsSpan().SequenceEqual(id.GetIssuerNameHash())
            && hashes.KeyHash.AsSpan().SequenceEqual(id.GetIssuerKeyHash());
    }

    public OcspResponder(CertificateAuthority issuingCa, ICertificateStatusSource source, TimeProvider clock, TimeSpan validity)
        : this([issuingCa], source, clock, validity)
    {
    }

    /// <summary>A responder for several issuing CAs (a rollover's overlap): each answer is signed by the CA the request's
    /// CertIDs name; the first CA signs when they name none of ours.</summary>
    public OcspResponder(IReadOnlyList<CertificateAuthority> issuingCas, ICertificateStatusSource source, TimeProvider clock, TimeSpan validity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfZero(issuingCas.Count);
        _source = source;
        _clock = clock;
        _validity = validity;
        _issuers = [.. issuingCas.Select(ca => new IssuerSigner(ca))];
    }

    /// <summary>The DER <c>OCSPResponse</c> with status <c>malformedRequest</c> (RFC 6960 §4.2.1).</summary>
    public static byte[] MalformedRequest { get; } = new OCSPRespGenerator().Generate(OCSPRespGenerator.MalformedRequest, null).GetEncoded();

    /// <summary>The DER <c>OCSPResponse</c> with status <c>internalError</c>, for when the store cannot be read.</summary>
    public static byte[] InternalError { get; } = new OCSPRespGenerator().Generate(OCSPRespGenerator.InternalError, null).GetEncoded();

    public async Task<OcspAnswer> RespondAsync(ReadOnlyMemory<byte> requestDer, CancellationToken ct)
    {
        var parsed = Parse(requestDer);
        if (parsed is null)
        {
            return new OcspAnswer(MalformedRequest, OcspOutcome.Malformed, [], SignedBy: null);
        }
        var (ids, nonce) = parsed.Value;

        // One response has one signer: the CA the first of our CertIDs names; CertIDs of another CA are unknown to it.
        var signer = ids.Select(id => _issuers.FirstOrDefault(i => i.Issued(id))).FirstOrDefault(i => i is not null) ?? _issuers[0];
        var ours = ids.Where(signer.Issued).Select(id => SerialHex(id)).Distinct().ToList();
        var known = ours.Count == 0
            ? new Dictionary<string, KnownCertificate>()
            : (await _source.FindAsync(ours, ct)).ToDictionary(k => k.SerialHex);

        var now = _clock.GetUtcNow();
        var thisUpdate = new DateTime(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var nextUpdate = thisUpdate + _validity;
        var generator = new BasicOcspRespGenerator(signer.ResponderId);
        var statuses = new List<(string Serial, string Status)>(ids.Count);
        foreach (var id in ids)
        {
            var serial = SerialHex(id);
            BcCertificateStatus? status;
            string label;
            if (!signer.Issued(id) || !known.TryGetValue(serial, out var certificate))
            {
                status = new UnknownStatus();
                label = "unknown";
            }
            else if (certificate.Revocation is { } revocation)
            {
                var at = revocation.RevokedAt.UtcDateTime;
                var revokedAt = new DateTime(at.Ticks - at.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
                status = revocation.EncodableReason is { } reason ? new RevokedStatus(revokedAt, reason) : new RevokedStatus(new RevokedInfo(new Asn1GeneralizedTime(revokedAt), null));
                label = "revoked";
            }
            else
            {
                status = BcCertificateStatus.Good;
                label = "good";
            }
            generator.AddResponse(id, status, thisUpdate, nextUpdate, null);
            statuses.Add((serial, label));
        }
        if (nonce is not null)
        {
            var extensions = new X509ExtensionsGenerator();
            extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, nonce);
            generator.SetResponseExtensions(extensions.Generate());
        }
        var basic = generator.Generate(signer.Signer, signer.Chain, thisUpdate);
        CaSignatures.Signed("ocsp");
        var der = new OCSPRespGenerator().Generate(OCSPRespGenerator.Successful, basic).GetEncoded();
        return new OcspAnswer(der, OcspOutcome.Successful, statuses, signer.Ca);
    }

    /// <summary>The CertIDs and the nonce's extnValue, or null when the request is not a well-formed OCSPRequest.</summary>
    private static (List<CertificateID> Ids, byte[]? Nonce)? Parse(ReadOnlyMemory<byte> der)
    {
        if (der.IsEmpty)
        {
            return null;
        }
        try
        {
            // A DER object with nothing after it, then the OCSP structure.
            var asn1 = Asn1Object.FromByteArray(der.ToArray());
            var request = new OcspReq(OcspRequest.GetInstance(asn1));
            var list = request.GetRequestList();
            if (list.Length is 0 or > MaxCertIdsPerRequest)
            {
                return null;
            }
            var ids = list.Select(r => r.GetCertID()).ToList();
            foreach (var id in ids)
            {
                _ = id.SerialNumber.SignValue; // forces the serial to decode
            }
            byte[]? nonce = null;
            var extension = request.RequestExtensions?.GetExtension(OcspObjectIdentifiers.PkixOcspNonce);
            if (extension is not null)
            {
                nonce = extension.Value.GetOctets();
                if (NonceLength(nonce) is < 1 or > MaxNonceLength)
                {
                    return null;
                }
            }
            return (ids, nonce);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or InvalidOperationException
            or OcspException or Asn1Exception or FormatException or NullReferenceException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>RFC 6960 §4.4.1 makes the nonce an OCTET STRING inside extnValue; some clients put bare bytes.</summary>
    private static int NonceLength(byte[] extnValue)
    {
        try
        {
            return Asn1OctetString.GetInstance(Asn1Object.FromByteArray(extnValue)).GetOctets().Length;
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or Asn1Exception)
        {
            return extnValue.Length;
        }
    }

    private static string SerialHex(CertificateID id) =>
        id.SerialNumber.SignValue <= 0 ? "-" : Convert.ToHexStringLower(id.SerialNumber.ToByteArrayUnsigned());
}

public enum OcspOutcome { Successful, Malformed }

/// <summary>The DER <c>OCSPResponse</c> and, for logs and tests, the status given to each serial.</summary>
/// <param name="SignedBy">The issuing CA whose key signed the answer (none for a malformed request).</param>
public sealed record OcspAnswer(byte[] Der, OcspOutcome Outcome, IReadOnlyList<(string Serial, string Status)> Statuses, CertificateAuthority? SignedBy);
