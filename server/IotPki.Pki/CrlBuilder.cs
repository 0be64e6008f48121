using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

/// <summary>A signed X.509 v2 CRL of the issuing CA (RFC 5280 §5): CRL number, authority key identifier,
/// thisUpdate/nextUpdate, one entry per revoked serial with its revocation date and reason code.</summary>
public sealed class CrlBuilder(CertificateAuthority issuingCa, TimeProvider clock)
{
    private readonly X509SignatureGenerator _signer = X509SignatureGenerator.CreateForECDsa(issuingCa.Key);
    private readonly X509AuthorityKeyIdentifierExtension _authorityKeyId =
        X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuingCa.Certificate, true, false);
    private readonly Lock _numberLock = new();
    private BigInteger _lastNumber;

    public IssuedCrl Build(IEnumerable<RevokedCertificate> revoked, TimeSpan validity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        // CRL times are encoded to the second: keep thisUpdate on a whole second so what we report is what is signed.
        var now = clock.GetUtcNow();
        var thisUpdate = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var nextUpdate = thisUpdate + validity;
        var builder = new CertificateRevocationListBuilder();
        var count = 0;
        foreach (var entry in revoked)
        {
            var reason = entry.EncodableReason;
            builder.AddEntry(Convert.FromHexString(entry.SerialHex), entry.RevokedAt,
                reason is null ? null : (X509RevocationReason)reason.Value);
            count++;
        }
        var number = NextNumber(now);
        var der = builder.Build(issuingCa.Subject, _signer, number, nextUpdate, HashAlgorithmName.SHA256, _authorityKeyId, thisUpdate);
        return new IssuedCrl(der, number, thisUpdate, nextUpdate, count);
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
