using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;

namespace IotPki.Server.Tests.Broker;

/// <summary>Broker refusals are written in batches: a certificate whose subject holds a NUL character (which PostgreSQL
/// refuses in text) once failed the whole batch it was written with. Now every refusal has its row.</summary>
public sealed class RefusalAuditBatchTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Refusals_written_alongside_NUL_subjects_all_get_their_row()
    {
        var certificates = Enumerable.Range(0, 48).Select(i => TestPki.SelfSigned(i % 6 == 0 ? $"nul\0{i}" : $"stranger-{i}")).ToList();

        await Task.WhenAll(certificates.Select(async certificate =>
        {
            using var client = new MqttClientFactory().CreateMqttClient();
            await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(MqttTestClient.Options(server, certificate, null)));
        }));

        var actors = certificates.Select(c => $"cert:{CertificateIdentifiers.Thumbprint(c)}").ToArray();
        long recorded = 0;
        for (var i = 0; i < 100 && recorded < actors.Length; i++)
        {
            await Task.Delay(100);
            recorded = await server.Database.ScalarAsync<long>(
                "SELECT count(DISTINCT \"Actor\") FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Actor\" = ANY($1)", (object)actors);
        }
        Assert.Equal(actors.Length, recorded);
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }
}
