using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using IotPki.Identity;
using IotPki.Tests.Shared;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Ocsp;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;

namespace IotPki.Pki.Tests.Fuzzing;

/// <summary>Every parser that takes network input, fed structure-aware mutations of valid samples (deterministic by
/// seed, a bounded number per parser): each answers with its own documented refusal, never another exception. The
/// longer coverage-guided run is <c>./iotpki bench fuzz</c>.</summary>
public sealed class ParserFuzzTests : IDisposable
{
    private const int Inputs = 1500;
    private const string Seed = "(1234567,7654321)";

    private static readonly (byte[] Ec, byte[] Rsa) Csrs = MakeCsrs();
    private readonly CertificateAuthority _root = CertificateAuthority.CreateRoot("Fuzz Root", TimeSpan.FromDays(3650), DateTimeOffset.UtcNow.AddDays(-1));
    private readonly CertificateAuthority _issuing;
    private readonly OcspResponder _ocsp;
    private readonly byte[] _ocspRequest;
    private readonly byte[] _certsOnly;
    private readonly byte[] _leaf;

    public ParserFuzzTests()
    {
        _issuing = CertificateAuthority.CreateSubordinate("Fuzz Issuing", TimeSpan.FromDays(3000), DateTimeOffset.UtcNow.AddDays(-1), _root);
        _ocsp = new OcspResponder(_issuing, new NoCertificates(), TimeProvider.System, TimeSpan.FromHours(1));
        var issuingBc = new BcCertificate(_issuing.Certificate.RawData);
        var generator = new OcspReqGenerator();
        generator.AddRequest(new CertificateID(new AlgorithmIdentifier(Org.BouncyCastle.Asn1.Oiw.OiwObjectIdentifiers.IdSha1, DerNull.Instance),
            issuingBc, new BcBigInteger("0123456789abcdef0123456789abcdef", 16)));
        var extensions = new X509ExtensionsGenerator();
        extensions.AddExtension(OcspObjectIdentifiers.PkixOcspNonce, false, new DerOctetString(new byte[16]));
        generator.SetRequestExtensions(extensions.Generate());
        _ocspRequest = generator.Generate().GetEncoded();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issuer = new CertificateIssuer(_issuing,
            new PkiEndpoints(new Uri("http://pki.example/crl/issuing.crl"), new Uri("http://pki.example/ocsp"), "iotpki.local"), TimeProvider.System);
        var issued = issuer.Issue(CertificateProfile.Operational(TimeSpan.FromDays(1)), "fuzz-0001", new PublicKey(key));
        _leaf = issued.Certificate.RawData;
        _certsOnly = CertsOnlyPkcs7.Encode([issued.Certificate, _issuing.Certificate]);
        issued.Certificate.Dispose();
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_CSR_is_parsed_or_refused_as_a_CsrException(DoNotSize<int> input)
    {
        var seed = input.Item;
        ParsesOrRefuses<CsrException>(() => SigningRequest.FromDer(InputMutations.MutateDer(Csrs.Ec, seed)));
        ParsesOrRefuses<CsrException>(() => SigningRequest.FromDer(InputMutations.MutateDer(Csrs.Rsa, seed)));
        ParsesOrRefuses<CsrException>(() => SigningRequest.FromDer(InputMutations.MutateDer(Csrs.Ec, seed), KeyProof.Ignored));
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_base64_CSR_body_is_parsed_or_refused_as_a_CsrException(DoNotSize<int> input)
    {
        var seed = input.Item;
        var body = InputMutations.MutateText(Convert.ToBase64String(Csrs.Ec, Base64FormattingOptions.InsertLineBreaks), seed);
        ParsesOrRefuses<CsrException>(() => SigningRequest.FromBase64(Encoding.UTF8.GetBytes(body)));
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_OCSP_request_gets_a_signed_answer_or_malformedRequest(DoNotSize<int> input)
    {
        var seed = input.Item;
        var answer = _ocsp.RespondAsync(InputMutations.MutateDer(_ocspRequest, seed), CancellationToken.None).GetAwaiter().GetResult();

        var status = new OcspResp(answer.Der).Status;
        Assert.Equal(answer.Outcome == OcspOutcome.Malformed ? OcspResponseStatus.MalformedRequest : OcspResponseStatus.Successful, status);
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_certs_only_answer_is_read_or_refused_as_a_FormatException(DoNotSize<int> input)
    {
        var seed = input.Item;
        ParsesOrRefuses<FormatException>(() => CertsOnlyPkcs7.Decode(InputMutations.MutateDer(_certsOnly, seed)).ForEach(c => c.Dispose()));
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_client_certificate_is_refused_at_load_or_read_without_an_exception(DoNotSize<int> input)
    {
        var seed = input.Item;
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(InputMutations.MutateDer(_leaf, seed));
        }
        catch (CryptographicException)
        {
            return;  // the TLS layer refuses what does not load
        }
        using (certificate)
        {
            // What the gates read of any certificate a client presents: tolerant of BER and garbage, never throwing.
            _ = CertificateIdentifiers.Thumbprint(certificate);
            _ = CertificateIdentifiers.AuthorityKeyId(certificate);
            _ = CertificateIdentifiers.Serial(certificate);
            _ = SubjectAlternativeNames.Uris(certificate).ToList();
            _ = SpiffeId.InCertificate(certificate, "iotpki.local", CertificateKind.Operational, CertificateKind.Operator);
            _ = BootstrapIdentity.TryReadDeviceId(certificate, DeviceIdField.CommonName, out _);
            _ = BootstrapIdentity.TryReadDeviceId(certificate, DeviceIdField.SerialNumber, out _);
        }
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_subjectAltName_is_read_or_refused_as_an_AsnContentException(DoNotSize<int> input)
    {
        var seed = input.Item;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.IA5String, "spiffe://iotpki.local/device/fuzz-0001", new Asn1Tag(TagClass.ContextSpecific, 6));
            writer.WriteCharacterString(UniversalTagNumber.IA5String, "fuzz.example", new Asn1Tag(TagClass.ContextSpecific, 2));
        }
        ParsesOrRefuses<AsnContentException>(() => SubjectAlternativeNames.Read(InputMutations.MutateDer(writer.Encode(), seed)));
    }

    private static void ParsesOrRefuses<TRefusal>(Action parse) where TRefusal : Exception
    {
        try
        {
            parse();
        }
        catch (TRefusal)
        {
        }
    }

    private static (byte[], byte[]) MakeCsrs()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ecRequest = new CertificateRequest("CN=fuzz-0001", ec, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri("spiffe://iotpki.local/device/fuzz-0001"));
        ecRequest.CertificateExtensions.Add(san.Build());
        using var rsa = RSA.Create(2048);
        var rsaRequest = new CertificateRequest("CN=fuzz-0001", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return (ecRequest.CreateSigningRequest(), rsaRequest.CreateSigningRequest());
    }

    public void Dispose()
    {
        _issuing.Dispose();
        _root.Dispose();
    }

    private sealed class NoCertificates : ICertificateStatusSource
    {
        public Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<KnownCertificate>>([]);
    }
}
