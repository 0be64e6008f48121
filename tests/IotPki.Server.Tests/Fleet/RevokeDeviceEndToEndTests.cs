using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Hosting;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

/// <summary>A stolen device revoked with one API call: off the broker (on every instance), on the CRL, revoked by
/// OCSP, and neither its operational nor its bootstrap certificate can enroll again.</summary>
public sealed class RevokeDeviceEndToEndTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task One_revoke_call_reaches_broker_CRL_OCSP_and_EST_on_two_instances()
    {
        const string id = "stolen-0001";
        await server.RegisterAsync(id);
        using var bootstrap = server.Bootstrap(id);
        using var device = await EnrollAsync(id, bootstrap);
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        var listeners = second.Services.GetRequiredService<ListenerEndpoints>();
        var secondMqtt = listeners.Get(ListenerEndpoints.Mqtt)!.Port;
        var secondHttp = listeners.Uri(IotPki.Server.Revocation.RevocationListener.Name, "http");
        using var session = await MqttTestClient.ConnectAsync(server, device.Certificate, id, secondMqtt);
        var dropped = MqttTestClient.Disconnected(session);
        using var admin = await OperatorClient.IssueAsync(server, "revoker", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);

        using var revoke = await api.PostAsJsonAsync($"/api/v1/devices/{id}/revoke", new { reason = "keyCompromise" });

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        using (var body = JsonDocument.Parse(await revoke.Content.ReadAsStringAsync()))
        {
            Assert.Equal(device.Certificate.SerialNumber.ToLowerInvariant(), body.RootElement.GetProperty("revokedSerials")[0].GetString());
        }
        await dropped.WaitAsync(TimeSpan.FromSeconds(10));
        var reconnect = new MQTTnet.MqttClientFactory().CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => reconnect.ConnectAsync(MqttTestClient.Options(server, device.Certificate, id, secondMqtt)));

        File.WriteAllText(Path.Combine(device.Directory, "issuing.pem"), server.Pki.Issuing.ExportCertificatePem() + "\n");
        File.Copy(server.CaBundlePath, Path.Combine(device.Directory, "ca.pem"), overwrite: true);
        var openssl = await ChildProcess.ShellAsync($"""
            curl -sSf -o crl.der '{new Uri(secondHttp, "/crl/issuing.crl")}'
            openssl crl -inform DER -in crl.der -out crl.pem
            openssl crl -in crl.pem -noout -text | grep -i -A1 'Serial Number' || true
            echo ---
            openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem device.pem 2>&1 || true
            echo ---
            openssl ocsp -issuer issuing.pem -cert device.pem -url '{new Uri(secondHttp, "/ocsp")}' -CAfile ca.pem 2>&1
            """, device.Directory);
        var parts = openssl.Stdout.Split("---");
        Assert.True(openssl.ExitCode == 0, openssl.Stderr + openssl.Stdout);
        Assert.Contains(device.Certificate.SerialNumber.ToUpperInvariant(), parts[0].ToUpperInvariant());
        Assert.Contains("certificate revoked", parts[1]);
        Assert.Contains("device.pem: revoked", parts[2]);
        Assert.Contains("Reason: keyCompromise", parts[2]);

        using (var renew = EstClient.Create(server, device.Certificate))
        using (var refused = await EstClient.PostCsrAsync(renew, "simplereenroll", TestPki.Csr(id).CsrBase64))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var est = EstClient.Create(server, bootstrap))
        using (var refused = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr(id).CsrBase64))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("device_revoked", await refused.Content.ReadAsStringAsync());
        }
        Assert.True(await server.WithDbAsync(db => db.AuditEvents.AnyAsync(a => a.Action == "device.revoked" && a.DeviceId == DeviceId.Parse(id) && a.Actor == "operator:revoker")));
        await second.StopAsync();
    }

    [Fact]
    public async Task Revoking_with_an_unknown_reason_or_an_unknown_device_is_a_problem()
    {
        using var admin = await OperatorClient.IssueAsync(server, "revoker2", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        await server.RegisterAsync("revoke-bad-01");

        using var badReason = await api.PostAsJsonAsync("/api/v1/devices/revoke-bad-01/revoke", new { reason = "because" });
        using var unknown = await api.PostAsJsonAsync("/api/v1/devices/no-such-device/revoke", new { reason = "keyCompromise" });

        Assert.Equal(HttpStatusCode.BadRequest, badReason.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("registered", await server.Database.ScalarAsync<string>("SELECT \"State\" FROM devices WHERE \"Id\" = 'revoke-bad-01'"));
    }

    private async Task<DeviceIdentity> EnrollAsync(string id, X509Certificate2 bootstrap)
    {
        using var est = EstClient.Create(server, bootstrap);
        var (key, csr) = TestPki.Csr(id);
        using var response = await EstClient.PostCsrAsync(est, "simpleenroll", csr);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var issued = await EstClient.ReadCertificateAsync(response);
        return DeviceIdentity.FromCertificate(id, issued.CopyWithPrivateKey(key));
    }
}
