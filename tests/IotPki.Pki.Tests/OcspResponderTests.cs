using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;

namespace IotPki.Pki.Tests;

public sealed class OcspResponderTests : IDisposable
{
    private readonly CertificateAuthority _root;
    private readonly CertificateAuthority _issuing;
    private readonly BcCertificate _issuingBc;
    private readonly FixedClock _clock = new(new DateTimeOffset(2026, 11, 27, 1, 0, 0, 250, TimeSpan.Zero));
    private readonly InMemoryStatusSource _store = new();
    private readonly OcspResponder _responder;

    private static readonly AlgorithmIdentifier Sha1 = new(Org.BouncyCastle.Asn1.Oiw.OiwObjectIdentifiers.IdSha1, DerNull.Instance);
    private const string Good = "11111111111111111111111111111111";
    private const string Revoked = "22222222222222222222222222222222";
    private const string RevokedUnspecified = "33333333333333333333333333333333";
    private const string Unknown = "44444444444444444444444444444444";
    private static readonly DateTimeOffset RevokedAt = new(2026, 11, 26, 20, 30, 0, TimeSpan.Zero);

    public OcspResponderTests()
    {
        var now = DateTimeOffset.UtcNow;
        _root = CertificateAuthority.CreateRoot("Root", TimeSpan.FromDays(3650), now.AddYears(-1));
        _issuing = CertificateAuthority.CreateSubordinate("Issuing", TimeSpan.FromDays(3000), now.AddYears(-1), _root);
        _issuingBc = new BcCertificate(_issuing.Certificate.RawData);
        _store.Add(new KnownCertificate(Good, null));
        _store.Add(new KnownCertificate(Revoked, new RevokedCertificate(Revoked, RevokedAt, 1)));
        _store.Add(new KnownCertificate(RevokedUnspecified, new RevokedCertificate(RevokedUnspecified, RevokedAt, 0)));
        _responder = new OcspResponder(_issuing, _store, _clock, TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task Answers_good_revoked_and_unknown_per_CertID_in_one_signed_response()
    {
        var request = Request([Id(Good), Id(Revoked), Id(RevokedUnspecified), Id(Unknown)]);

        var answer = await _responder.RespondAsync(request, CancellationToken.None);

        var basic = Basic(answer.Der);
        Assert.True(basic.Verify(_issuingBc.GetPublicKey()));
        var responses = basic.Responses;
        Assert.Equal(4, responses.Length);
        Assert.Null(responses[0].GetCertStatus()); // good
        var revoked = Assert.IsType<RevokedStatus>(responses[1].GetCertStatus());
        Assert.Equal(RevokedAt.UtcDateTime, revoked.RevocationTime);
        Assert.Equal(CrlReason.KeyCompromise, revoked.RevocationReason);
        var unspecified = Assert.IsType<RevokedStatus>(responses[2].GetCertStatus());
        Assert.False(unspecified.HasRevocationReason);
        Assert.IsType<UnknownStatus>(responses[3].GetCertStatus());
        Assert.Equal(new DateTime(2026, 11, 27, 1, 0, 0, DateTimeKind.Utc), responses[0].ThisUpdate);
        Assert.Equal(new DateTime(2026, 11, 27, 2, 0, 0, DateTimeKind.Utc), responses[0].NextUpdate);
        Assert.Equal(new DateTime(2026, 11, 27, 1, 0, 0, DateTimeKind.Utc), basic.ProducedAt);
        Assert.Equal([(Good, "good"), (Revoked, "revoked"), (RevokedUnspecified, "revoked"), (Unknown, "unknown")], answer.Statuses);
    }

    [Fact]
    public async Task The_responder_id_is_the_hash_of_the_issuing_CA_key()
    {
        var basic = Basic((await _responder.RespondAsync(Request([Id(Good)]), CancellationToken.None)).Der);

        Assert.Equal(new RespID(_issuingBc.GetPublicKey()), basic.ResponderId);
        Assert.NotNull(basic.ResponderId.ToAsn1Object().GetKeyHash());
        Assert.Equal(_issuingBc, Assert.Single(basic.GetCerts()));
    }

    [Fact]
    public async Task The_nonce_is_echoed()
    {
        var nonce = new DerOctetString(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
        var request = Request([Id(Good)], nonce);

        var basic = Basic((await _responder.RespondAsync(request, CancellationToken.None)).Der);

        var echoed = basic.GetExtensionValue(OcspObjectIdentifiers.PkixOcspNonce);
        Assert.NotNull(echoed);
        Assert.Equal(nonce.GetEncoded(), echoed.GetOctets());
    }

    [Fact]
    public async Task A_CertID_with_another_issuer_is_unknown_even_for_a_serial_we_revoked()
    {
        using var other = CertificateAuthority.CreateRoot("Issuing", TimeSpan.FromDays(10), DateTimeOffset.UtcNow);
        var foreign = new CertificateID(Sha1, new BcCertificate(other.Certificate.RawData), new BcBigInteger(Revoked, 16));

        var basic = Basic((await _responder.RespondAsync(Request([foreign]), CancellationToken.None)).Der);

        Assert.IsType<UnknownStatus>(Assert.Single(basic.Responses).GetCertStatus());
        Assert.Equal(0, _store.Lookups);
    }

    [Fact]
    public async Task A_CertID_hashed_with_SHA256_is_answered()
    {
        var id = new CertificateID(new AlgorithmIdentifier(Org.BouncyCastle.Asn1.Nist.NistObjectIdentifiers.IdSha256, DerNull.Instance), _issuingBc, new BcBigInteger(Revoked, 16));

        var basic = Basic((await _responder.RespondAsync(Request([id]), CancellationToken.None)).Der);

        Assert.IsType<RevokedStatus>(Assert.Single(basic.Responses).GetCertStatus());
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("3000")]
    [InlineData("30030201ff")]
    [InlineData("3082ffff")]
    [InlineData("300a300830063004300230")]
    public async Task Malformed_requests_get_a_malformedRequest_response(string hex)
    {
        var answer = await _responder.RespondAsync(Convert.FromHexString(hex), CancellationToken.None);

        Assert.Equal(OcspOutcome.Malformed, answer.Outcome);
        Assert.Equal(OcspResponseStatus.MalformedRequest, new OcspResp(answer.Der).Status);
    }

    [Fact]
    public async Task A_request_with_trailing_bytes_or_truncated_is_malformed()
    {
        var good = Request([Id(Good)]);

        Assert.Equal(OcspOutcome.Malformed, (await _responder.RespondAsync(good.Concat(new byte[] { 0 }).ToArray(), CancellationToken.None)).Outcome);
        Assert.Equal(OcspOutcome.Malformed, (await _responder.RespondAsync(good[..^3], CancellationToken.None)).Outcome);
        Assert.Equal(OcspOutcome.Successful, (await _responder.RespondAsync(good, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Every_truncation_of_a_valid_request_is_answered_without_an_exception()
    {
        var good = Request([Id(Good), Id(Revoked)], new DerOctetString(new byte[16]));
        for (var length = 0; length < good.Length; length++)
        {
            var answer = await _responder.RespondAsync(good.AsMemory(0, length), CancellationToken.None);
            Assert.Equal(OcspOutcome.Malformed, answer.Outcome);
        }
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var mutated = (byte[])good.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            var answer = await _responder.RespondAsync(mutated, CancellationToken.None);
            Assert.Equal(answer.Outcome == OcspOutcome.Malformed ? OcspResponseStatus.MalformedRequest : OcspResponseStatus.Successful, new OcspResp(answer.Der).Status);
        }
    }

    [Fact]
    public async Task Too_many_CertIDs_or_an_oversized_nonce_are_malformed()
    {
        var many = Request(Enumerable.Range(0, OcspResponder.MaxCertIdsPerRequest + 1).Select(_ => Id(Good)).ToArray());
        var bigNonce = Request([Id(Good)], new DerOctetString(new byte[33]));

        Assert.Equal(OcspOutcome.Malformed, (await _responder.RespondAsync(many, CancellationToken.None)).Outcome);
        Assert.Equal(OcspOutcome.Malformed, (await _responder.RespondAsync(bigNonce, CancellationToken.None)).Outcome);
        Assert.Equal(0, _store.Lookups);
    }

    private CertificateID Id(string serialHex) => new(Sha1, _issuingBc, new BcBigInteger(serialHex, 16));

    private static byte[] Request(CertificateID[] ids, DerOctetString? nonce = null)
    {
        var generator = new OcspReqGenerator();
        foreach (var id in ids)
        {
            generator.AddRequest(id);
        }
        if (nonce is not null)
        {
            var extensions = new X509ExtensionsGenerator();
            extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, nonce);
            generator.SetRequestExtensions(extensions.Generate());
        }
        return generator.Generate().GetEncoded();
    }

    private static BasicOcspResp Basic(byte[] der)
    {
        var response = new OcspResp(der);
        Assert.Equal(OcspResponseStatus.Successful, response.Status);
        return Assert.IsType<BasicOcspResp>(response.GetResponseObject());
    }

    public void Dispose()
    {
        _issuing.Dispose();
        _root.Dispose();
    }

    /// <summary>The certificate store as the responder sees it, in memory.</summary>
    private sealed class InMemoryStatusSource : ICertificateStatusSource
    {
        private readonly Dictionary<string, KnownCertificate> _known = [];
        public int Lookups { get; private set; }

        public void Add(KnownCertificate certificate) => _known[certificate.SerialHex] = certificate;

        public Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct)
        {
            Lookups++;
            IReadOnlyList<KnownCertificate> found = serialsHex.Where(_known.ContainsKey).Select(s => _known[s]).ToList();
            return Task.FromResult(found);
        }
    }
}
