using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using IotPki.Server.Cluster;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>Every CA key operation is an audit row: an instance opening the issuing key, each CRL it signs (not each
/// time it serves one), and the OCSP answers it signs, counted per issuing CA in one row per interval.</summary>
public sealed class CaKeyAuditTests(CaKeyAuditTests.Fixture server) : IClassFixture<CaKeyAuditTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Pki:OcspAuditInterval"] = "00:00:01",
        };
    }

    [Fact]
    public async Task Each_OCSP_answer_signed_is_counted_in_the_instances_audit_rows()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "audit-ocsp-01");
        File.WriteAllText(Path.Combine(device.Directory, "issuing.pem"), server.Pki.Issuing.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(device.Directory, "chain.pem"), server.Pki.Root.ExportCertificatePem() + "\n" + server.Pki.Issuing.ExportCertificatePem() + "\n");
        var instance = server.Services.GetRequiredService<ClusterInstance>().Id;

        var ocsp = await ChildProcess.ShellAsync($"""
            for i in 1 2 3; do
              openssl ocsp -issuer issuing.pem -cert device.pem -url '{new Uri(server.HttpBase, "/ocsp")}' -CAfile chain.pem 2>&1
            done
            """, device.Directory);
        Assert.True(ocsp.ExitCode == 0, ocsp.Stdout + ocsp.Stderr);
        Assert.Equal(3, ocsp.Stdout.Split('\n').Count(l => l.Trim() == "device.pem: good"));

        // Rows come once a second; wait until they account for the three answers (a bound, not a timing assertion).
        var counted = 0L;
        for (var attempt = 0; attempt < 150 && counted < 3; attempt++)
        {
            await Task.Delay(200);
            counted = await server.Database.ScalarAsync<long>(
                """
                SELECT coalesce(sum(split_part("Detail", ' ', 1)::bigint), 0)::bigint FROM audit_events
                WHERE "Action" = 'ocsp.signed' AND "Actor" = 'system' AND "Detail" LIKE '% OCSP answers signed with issuing from %' AND "Detail" LIKE $1
                """, $"%by instance % ({instance})");
        }
        Assert.Equal(3L, counted);
    }

    [Fact]
    public async Task A_CRL_signature_is_one_audit_row_and_serving_the_same_CRL_again_writes_none()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "audit-crl-01");
        using var admin = await OperatorClient.IssueAsync(server, "audit-crl-admin", OperatorRole.Admin);
        var first = await CrlNumberAsync(device.Directory);
        var again = await CrlNumberAsync(device.Directory);
        using (var api = OperatorClient.Create(server, admin))
        using (var revoke = await api.PostAsJsonAsync($"/api/v1/devices/{device.Id}/revoke", new { reason = "keyCompromise" }))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }
        var afterRevoke = await CrlNumberAsync(device.Directory);

        Assert.Equal(first, again);
        Assert.NotEqual(first, afterRevoke);
        Assert.Equal(1L, await CrlRowsAsync(first, "0 entries"));
        Assert.Equal(1L, await CrlRowsAsync(afterRevoke, "1 entries"));
    }

    [Fact]
    public async Task An_instance_that_opens_the_issuing_key_leaves_an_audit_row_naming_it()
    {
        await using var second = await server.StartServerAsync(server.TempDirectory("audit-second-"));
        var instance = second.Services.GetRequiredService<ClusterInstance>().Id;

        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'ca.key_opened' AND \"Detail\" = $1",
            $"issuing: key opened from the database store by instance {Environment.MachineName} ({instance})"));
        await second.StopAsync();
    }

    private async Task<BigInteger> CrlNumberAsync(string directory)
    {
        var crl = await ChildProcess.ShellAsync(
            $"curl -sSf '{new Uri(server.HttpBase, "/crl/issuing.crl")}' | openssl crl -inform DER -noout -crlnumber", directory);
        Assert.True(crl.ExitCode == 0, crl.Stderr);
        var hex = crl.Stdout.Trim().Split('=')[1];
        return BigInteger.Parse("0" + hex[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private Task<long> CrlRowsAsync(BigInteger number, string entries) =>
        server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'crl.signed' AND \"Detail\" LIKE $1",
            $"CRL {number.ToString(CultureInfo.InvariantCulture)} of issuing: {entries}, next update %");
}
