using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;

namespace IotPki.Pki.Tests;

public sealed class CrlBuilderTests : IDisposable
{
    private readonly CertificateAuthority _root;
    private readonly CertificateAuthority _issuing;
    private readonly FixedClock _clock = new(new DateTimeOffset(2026, 11, 27, 1, 2, 3, 456, TimeSpan.Zero));

    public CrlBuilderTests()
    {
        var now = DateTimeOffset.UtcNow;
        _root = CertificateAuthority.CreateRoot("Root", TimeSpan.FromDays(3650), now.AddYears(-1));
        _issuing = CertificateAuthority.CreateSubordinate("Issuing", TimeSpan.FromDays(3000), now.AddYears(-1), _root);
    }

    [Fact]
    public void A_CRL_is_signed_by_the_issuing_CA_and_lists_each_serial_with_date_and_reason()
    {
        var builder = new CrlBuilder(_issuing, _clock);
        var revokedAt = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        RevokedCertificate[] entries =
        [
            new("0123456789abcdef0123456789abcdef", revokedAt, 1),
            new("7f000000000000000000000000000001", revokedAt.AddHours(1), 0),
            new("10000000000000000000000000000002", revokedAt.AddHours(2), null),
        ];

        var issued = builder.Build(entries, TimeSpan.FromHours(24));

        var crl = new X509CrlParser().ReadCrl(issued.Der);
        crl.Verify(new X509CertificateParser().ReadCertificate(_issuing.Certificate.RawData).GetPublicKey());
        Assert.Equal(2, crl.Version);
        Assert.Equal("1.2.840.10045.4.3.2", crl.SigAlgOid);
        Assert.Equal(new DateTime(2026, 11, 27, 1, 2, 3, DateTimeKind.Utc), crl.ThisUpdate);
        Assert.Equal(new DateTime(2026, 11, 28, 1, 2, 3, DateTimeKind.Utc), crl.NextUpdate!.Value);
        Assert.Equal(issued.NextUpdate.UtcDateTime, crl.NextUpdate.Value);
        Assert.Equal(3, crl.GetRevokedCertificates().Count);

        var first = crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger("0123456789abcdef0123456789abcdef", 16));
        Assert.Equal(revokedAt.UtcDateTime, first.RevocationDate);
        Assert.Equal(CrlReason.KeyCompromise, ReasonOf(first));
        // unspecified is written by leaving the reason out (RFC 5280 §5.3.1)
        Assert.Null(ReasonOf(crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger("7f000000000000000000000000000001", 16))));
        Assert.Null(ReasonOf(crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger("10000000000000000000000000000002", 16))));

        var number = DerInteger.GetInstance(X509ExtensionUtilities.FromExtensionValue(crl.GetExtensionValue(X509Extensions.CrlNumber))).Value;
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeMilliseconds(), number.LongValueExact);
        var aki = AuthorityKeyIdentifier.GetInstance(X509ExtensionUtilities.FromExtensionValue(crl.GetExtensionValue(X509Extensions.AuthorityKeyIdentifier)));
        var ski = Assert.IsType<X509SubjectKeyIdentifierExtension>(_issuing.Certificate.Extensions["2.5.29.14"]);
        Assert.Equal(ski.SubjectKeyIdentifier, Convert.ToHexString(aki.KeyIdentifier.GetOctets()));
    }

    [Fact]
    public void An_empty_CRL_and_a_full_one_read_back_with_dotnet_and_keep_revocation_dates_after_2049()
    {
        var builder = new CrlBuilder(_issuing, _clock);
        var late = new DateTimeOffset(2051, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var empty = builder.Build([], TimeSpan.FromHours(1));
        var full = builder.Build([new RevokedCertificate("0000ff", late, 9)], TimeSpan.FromHours(1));

        Assert.Null(new X509CrlParser().ReadCrl(empty.Der).GetRevokedCertificates());
        CertificateRevocationListBuilder.Load(empty.Der, out BigInteger emptyNumber);
        Assert.Equal(empty.Number, emptyNumber);
        CertificateRevocationListBuilder.Load(full.Der, out BigInteger fullNumber);
        Assert.Equal(full.Number, fullNumber);
        var entry = new X509CrlParser().ReadCrl(full.Der).GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger("ff", 16));
        Assert.Equal(late.UtcDateTime, entry.RevocationDate);
        Assert.Equal(CrlReason.PrivilegeWithdrawn, ReasonOf(entry));
    }

    [Fact]
    public void A_CRL_signed_by_another_CA_does_not_verify_with_our_key()
    {
        using var other = CertificateAuthority.CreateRoot("Other", TimeSpan.FromDays(10), DateTimeOffset.UtcNow);
        var issued = new CrlBuilder(other, _clock).Build([], TimeSpan.FromHours(1));

        var crl = new X509CrlParser().ReadCrl(issued.Der);

        Assert.ThrowsAny<Exception>(() => crl.Verify(new X509CertificateParser().ReadCertificate(_issuing.Certificate.RawData).GetPublicKey()));
    }

    [Fact]
    public void CRL_numbers_increase_even_within_one_millisecond()
    {
        var builder = new CrlBuilder(_issuing, _clock);

        var numbers = Enumerable.Range(0, 3).Select(_ => builder.Build([], TimeSpan.FromHours(1)).Number).ToList();

        Assert.Equal(_clock.GetUtcNow().ToUnixTimeMilliseconds(), (long)numbers[0]);
        Assert.True(numbers[0] < numbers[1] && numbers[1] < numbers[2]);
        CertificateRevocationListBuilder.Load(builder.Build([], TimeSpan.FromHours(1)).Der, out BigInteger loaded);
        Assert.Equal(numbers[2] + 1, loaded);
    }

    [Fact]
    public void Ten_thousand_entries_of_every_shape_read_back_exactly()
    {
        // Serials of 1 to 20 bytes, some with the high bit set (a sign byte is added) or leading zeros (dropped);
        // dates on both sides of 2050 (UTCTime, GeneralizedTime); every reason code, encodable or not.
        var random = new Random(7);
        var entries = Enumerable.Range(1, 10_000).Select(i =>
        {
            var serial = new byte[1 + i % 20];
            random.NextBytes(serial);
            serial[0] = (i % 4) switch { 0 => 0x00, 1 => 0xff, _ => serial[0] };
            var at = (i % 2 == 0 ? _clock.GetUtcNow() : new DateTimeOffset(2051, 1, 2, 3, 4, 5, TimeSpan.Zero)).AddSeconds(-i);
            return new RevokedCertificate(Convert.ToHexStringLower(serial), at, i % 12 == 11 ? null : i % 12);
        }).ToList();

        var issued = new CrlBuilder(_issuing, _clock).Build(entries, TimeSpan.FromHours(24));

        var crl = new X509CrlParser().ReadCrl(issued.Der);
        crl.Verify(new X509CertificateParser().ReadCertificate(_issuing.Certificate.RawData).GetPublicKey());
        var read = crl.GetRevokedCertificates().Cast<X509CrlEntry>().ToList();
        Assert.Equal(entries.Count, read.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.Equal(new Org.BouncyCastle.Math.BigInteger(1, Convert.FromHexString(entries[i].SerialHex)), read[i].SerialNumber);
            Assert.Equal(new DateTime(entries[i].RevokedAt.UtcTicks - entries[i].RevokedAt.UtcTicks % TimeSpan.TicksPerSecond, DateTimeKind.Utc), read[i].RevocationDate);
            Assert.Equal(entries[i].EncodableReason, ReasonOf(read[i]));
        }
    }

    [Fact]
    public void The_largest_entry_fills_exactly_the_room_the_encoder_sizes_for_each()
    {
        var largest = new RevokedCertificate(new string('f', 40), new DateTimeOffset(2051, 1, 1, 0, 0, 0, TimeSpan.Zero), 1);

        var encoded = RevokedCertificatesEncoder.Encode([largest]);

        Assert.Equal(2 + RevokedCertificatesEncoder.MaxBytesPerEntry, encoded.Length);
        Assert.Throws<FormatException>(() => RevokedCertificatesEncoder.Encode([largest with { SerialHex = new string('f', 42) }]));
    }

    private static int? ReasonOf(X509CrlEntry entry)
    {
        var value = entry.GetExtensionValue(X509Extensions.ReasonCode);
        return value is null ? null : DerEnumerated.GetInstance(X509ExtensionUtilities.FromExtensionValue(value)).IntValueExact;
    }

    public void Dispose()
    {
        _issuing.Dispose();
        _root.Dispose();
    }
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}
