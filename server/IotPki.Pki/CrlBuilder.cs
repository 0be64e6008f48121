using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

/// <summary>A signed X.509 v2 CRL of the issuing CA (RFC 5280 §5): CRL number, authority key identifier,
/// thisUpdate/nextUpdate, one entry per revoked serial with its revocation date and reason code, ECDSA with SHA-256.</summary>
/// <remarks>Encoded here rather than with .NET's <see cref="CertificateRevocationListBuilder"/>: its writer grows its
/// buffer 1 KiB at a time, which made 100,000 entries take over 4 s. The entries themselves are written by
/// <see cref="RevokedCertificatesEncoder"/>, byte by byte.</remarks>
public sealed class CrlBuilder(CertificateAuthority issuingCa, TimeProvider clock)
{
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    private const string CrlNumberOid = "2.5.29.20";
    private const string AuthorityKeyIdentifierOid = "2.5.29.35";

    private readonly byte[] _authorityKeyId =
        X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuingCa.Certificate, true, false).RawData;
    private readonly Lock _numberLock = new();
    private BigInteger _lastNumber;

    public IssuedCrl Build(IEnumerable<RevokedCertificate> revoked, TimeSpan validity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        // CRL times are encoded to the second: keep thisUpdate on a whole second so what we report is what is signed.
        var now = clock.GetUtcNow();
        var thisUpdate = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var nextUpdate = thisUpdate + validity;
        var entries = revoked as IReadOnlyCollection<RevokedCertificate> ?? revoked.ToList();
        var number = NextNumber(now);

        var tbs = new AsnWriter(AsnEncodingRules.DER, 1024 + entries.Count * RevokedCertificatesEncoder.MaxBytesPerEntry);
        using (tbs.PushSequence())
        {
            tbs.WriteInteger(1); // v2
            WriteSignatureAlgorithm(tbs);
            tbs.WriteEncodedValue(issuingCa.Certificate.SubjectName.RawData);
            WriteTime(tbs, thisUpdate);
            WriteTime(tbs, nextUpdate);
            if (entries.Count > 0)
            {
                tbs.WriteEncodedValue(RevokedCertificatesEncoder.Encode(entries));
            }
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (tbs.PushSequence())
            {
                WriteExtension(tbs, AuthorityKeyIdentifierOid, _authorityKeyId);
                var crlNumber = new AsnWriter(AsnEncodingRules.DER);
                crlNumber.WriteInteger(number);
                WriteExtension(tbs, CrlNumberOid, crlNumber.Encode());
            }
        }
        var tbsDer = tbs.Encode();
        var signature = issuingCa.Key.SignData(tbsDer, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        CaSignatures.Signed("crl");

        var crl = new AsnWriter(AsnEncodingRules.DER, tbsDer.Length + signature.Length + 64);
        using (crl.PushSequence())
        {
            crl.WriteEncodedValue(tbsDer);
            WriteSignatureAlgorithm(crl);
            crl.WriteBitString(signature);
        }
        return new IssuedCrl(crl.Encode(), number, thisUpdate, nextUpdate, entries.Count);
    }

    private static void WriteExtension(AsnWriter writer, string oid, byte[] value)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            writer.WriteOctetString(value);
        }
    }

    private static void WriteSignatureAlgorithm(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(EcdsaWithSha256);
        }
    }

    /// <summary>RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050, both to the second.</summary>
    private static void WriteTime(AsnWriter writer, DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        utc = new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        if (utc.Year < 2050)
        {
            writer.WriteUtcTime(utc);
        }
        else
        {
            writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
        }
    }

    /// <summary>Monotonic across builds and restarts: the build time in Unix milliseconds, bumped if two builds
    /// fall in the same millisecond.</summary>
    private BigInteger NextNumber(DateTimeOffset now)
    {
        lock (_numberLock)
        {
            var number = BigInteger.Max(now.ToUnixTimeMilliseconds(), _lastNumber + 1);
            _lastNumber = number;
            return number;
        }
    }
}

public sealed record IssuedCrl(byte[] Der, BigInteger Number, DateTimeOffset ThisUpdate, DateTimeOffset NextUpdate, int EntryCount);
