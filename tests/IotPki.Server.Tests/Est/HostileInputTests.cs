using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

/// <summary>Input an attacker sends, each a defect that once answered 500 or lost its audit row: now a 4xx with a
/// reason, the refusal recorded under the request's own row, and the server still enrolls a valid device after.</summary>
public sealed class HostileInputTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string Est => new Uri(server.EstBase, "/.well-known/est/").ToString();

    [Fact]
    public async Task A_client_certificate_with_a_BER_subjectAltName_gets_no_5xx_on_any_route()
    {
        var dir = server.TempDirectory("ber-san-");
        var run = await ChildProcess.ShellAsync($$"""
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=ber-san \
                -addext "subjectAltName=DER:30810b86096c6f63616c686f7374" 2>/dev/null
            for url in '{{server.EstBase}}healthz' '{{Est}}cacerts' '{{server.EstBase}}crl/issuing.crl' '{{server.OperatorBase}}healthz' '{{server.OperatorBase}}api/v1/devices'; do
                curl -s -o /dev/null -w '%{http_code} ' --cert c.pem --key k.pem --cacert '{{server.CaBundlePath}}' "$url"
            done
            echo MIIB | curl -s -o /dev/null -w '%{http_code}' --cert c.pem --key k.pem --cacert '{{server.CaBundlePath}}' \
                -H 'Content-Type: application/pkcs10' --data-binary @- '{{Est}}simpleenroll'
            """, dir);

        var codes = run.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.True(codes.Length == 6, run.Stdout + run.Stderr);
        Assert.Equal([200, 200, 200, 200], codes[..4]);
        Assert.Equal(401, codes[4]);
        Assert.Equal(403, codes[5]);
        await AssertStillEnrollsAsync("after-ber-san");
    }

    [Fact]
    public async Task A_client_certificate_with_a_BER_authorityKeyIdentifier_is_refused_with_its_own_attempt_row()
    {
        var dir = server.TempDirectory("ber-aki-");
        var run = await ChildProcess.ShellAsync($$"""
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=ber-aki-0001 \
                -addext "authorityKeyIdentifier=DER:3081068004deadbeef" 2>/dev/null
            for op in simpleenroll serverkeygen; do
                echo MIIB | curl -s -o /dev/null -w '%{http_code} ' --cert c.pem --key k.pem --cacert '{{server.CaBundlePath}}' \
                    -H 'Content-Type: application/pkcs10' --data-binary @- "{{Est}}$op"
            done
            """, dir);

        Assert.Equal("403 403", run.Stdout.Trim());
        var thumbprint = CertificateIdentifiers.Thumbprint(X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(dir, "c.pem"))));
        Assert.Equal(2L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM enrollment_attempts WHERE \"ClientThumbprint\" = $1 AND \"Outcome\" = 'refused' AND \"Reason\" = 'unknown_manufacturer'", thumbprint));
    }

    public static TheoryData<string, string, string> BadCsrs => new()
    {
        { "ed25519", "openssl genpkey -algorithm ed25519 -out k.pem", "unsupported_signature_algorithm" },
        { "ed448", "openssl genpkey -algorithm ed448 -out k.pem", "unsupported_signature_algorithm" },
        { "dsa", "openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out p.pem && openssl genpkey -paramfile p.pem -out k.pem", "unsupported_signature_algorithm" },
        { "md5", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem && echo -md5 > digest", "unsupported_signature_algorithm" },
        { "sha1", "openssl ecparam -name prime256v1 -genkey -noout -out k.pem && echo -sha1 > digest", "unsupported_signature_algorithm" },
        { "explicit", "openssl ecparam -name prime256v1 -genkey -noout -param_enc explicit -out k.pem", "unsupported_key" },
        { "brainpool", "openssl ecparam -name brainpoolP256r1 -genkey -noout -out k.pem", "unsupported_key" },
        { "rsa-e3", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out k.pem", "unsupported_key" },
        { "two-cns", "openssl ecparam -name prime256v1 -genkey -noout -out k.pem && echo '/CN=other-0001/CN=SERIAL' > subject", "not_a_csr" },
    };

    [Theory]
    [MemberData(nameof(BadCsrs))]
    public async Task A_CSR_of_a_refused_kind_is_a_400_with_its_reason_and_its_own_attempt_row(string kind, string makeKey, string reason)
    {
        var serial = $"badcsr-{kind}";
        await server.RegisterAsync(serial);
        var dir = server.TempDirectory($"csr-{kind}-");
        using (var bootstrap = server.Bootstrap(serial))
        {
            TestPki.WritePem(bootstrap, Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
        }
        var run = await ChildProcess.ShellAsync($$"""
            set -e
            {{makeKey}}
            subject="/CN={{serial}}"; [ -f subject ] && subject="$(sed "s/SERIAL/{{serial}}/" subject)"
            digest=""; [ -f digest ] && digest="$(cat digest)"
            openssl req -new -key k.pem -subj "$subject" $digest -outform DER | openssl base64 -e > csr.b64
            curl -s -o body.json -w '%{http_code}' --cert boot.pem --key boot.key --cacert '{{server.CaBundlePath}}' \
                -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 '{{Est}}simpleenroll'
            """, dir);

        Assert.True(run.Stdout == "400", $"{run.Stdout} {run.Stderr} {await File.ReadAllTextAsync(Path.Combine(dir, "body.json"))}");
        using var problem = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "body.json")));
        Assert.Equal(reason, problem.RootElement.GetProperty("reason").GetString());
        var attempt = await server.WithDbAsync(db => db.EnrollmentAttempts.AsNoTracking().SingleAsync(a => a.DeviceId == DeviceId.Parse(serial)));
        Assert.Equal(("refused", reason), (attempt.Outcome, attempt.Reason));
        await AssertStillEnrollsAsync($"after-{kind}");
    }

    [Fact]
    public async Task Serverkeygen_with_a_malformed_subject_is_a_400()
    {
        await server.RegisterAsync("skg-badname");
        using var bootstrap = server.Bootstrap("skg-badname");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = new CertificateRequest("CN=skg-badname", key, HashAlgorithmName.SHA256).CreateSigningRequest();
        // The subject's RDN: SET (0x31) { SEQUENCE { OID 2.5.4.3 ... } } becomes a SEQUENCE (0x30).
        var rdn = der.AsSpan().IndexOf([(byte)0x06, (byte)0x03, (byte)0x55, (byte)0x04, (byte)0x03]) - 4;
        Assert.Equal(0x31, der[rdn]);
        der[rdn] = 0x30;
        using var est = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(est, "serverkeygen", Convert.ToBase64String(der));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var attempt = await server.WithDbAsync(db => db.EnrollmentAttempts.AsNoTracking().SingleAsync(a => a.DeviceId == DeviceId.Parse("skg-badname")));
        Assert.Equal(("refused", "not_a_csr"), (attempt.Outcome, attempt.Reason));
    }

    [Fact]
    public async Task A_NUL_in_a_client_certificates_CN_or_a_CSRs_CN_is_refused_and_its_refusal_recorded()
    {
        using var foreignKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName("nul\0cn");
        using var foreign = new CertificateRequest(name.Build(), foreignKey, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        using var foreignEst = EstClient.Create(server, foreign);
        var (_, csr) = TestPki.Csr("nul-0001");

        using var refused = await EstClient.PostCsrAsync(foreignEst, "simpleenroll", csr);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM enrollment_attempts WHERE \"ClientThumbprint\" = $1 AND \"Reason\" = 'unknown_manufacturer'",
            CertificateIdentifiers.Thumbprint(foreign)));

        await server.RegisterAsync("nul-0002");
        using var bootstrap = server.Bootstrap("nul-0002");
        using var est = EstClient.Create(server, bootstrap);
        var csrName = new X500DistinguishedNameBuilder();
        csrName.AddCommonName("nul-0002\0evil");
        var nulCsr = Convert.ToBase64String(new CertificateRequest(csrName.Build(), foreignKey, HashAlgorithmName.SHA256).CreateSigningRequest());

        using var mismatch = await EstClient.PostCsrAsync(est, "simpleenroll", nulCsr);

        Assert.Equal(HttpStatusCode.Forbidden, mismatch.StatusCode);
        var row = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .SingleAsync(a => a.DeviceId == DeviceId.Parse("nul-0002") && a.Action == "enrollment.refused"));
        Assert.Contains("identity_mismatch", row.Detail);
        Assert.Contains("nul-0002\uFFFDevil", row.Detail);
        await AssertStillEnrollsAsync("after-nul");
    }

    [Fact]
    public async Task Of_ten_concurrent_enrollments_with_one_bootstrap_certificate_exactly_one_wins()
    {
        await server.RegisterAsync("race-0001");
        using var bootstrap = server.Bootstrap("race-0001");

        var codes = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var est = EstClient.Create(server, bootstrap);
            var (key, csr) = TestPki.Csr("race-0001");
            using (key)
            using (var response = await EstClient.PostCsrAsync(est, "simpleenroll", csr))
            {
                return response.StatusCode;
            }
        }));

        Assert.Single(codes, HttpStatusCode.OK);
        Assert.All(codes.Where(c => c != HttpStatusCode.OK), c => Assert.Equal(HttpStatusCode.Forbidden, c));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM certificates WHERE \"DeviceId\" = 'race-0001'"));
        Assert.Equal(9L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM enrollment_attempts WHERE \"DeviceId\" = 'race-0001' AND \"Reason\" = 'already_enrolled'"));
    }

    private async Task AssertStillEnrollsAsync(string id)
    {
        using var device = await DeviceIdentity.EnrollAsync(server, id);
        Assert.Equal($"CN={id}", device.Certificate.Subject);
    }
}
