using IotPki.Server.Broker;
using IotPki.Server.Cluster;
using IotPki.Server.Data.Entities;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;

namespace IotPki.Server.Tests.Broker;

/// <summary>The broker's LISTEN connection to PostgreSQL: when it is cut off, it reconnects, reloads the revoked set,
/// and closes the sessions of revocations it missed meanwhile.</summary>
public sealed class RevocationListenerTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string ListenerBackends =
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = '" + ClusterListener.ApplicationName + "'";

    [Fact]
    public async Task After_the_listener_loses_PostgreSQL_it_reconnects_and_drops_sessions_revoked_while_it_was_away()
    {
        using var revokedCert = await DeviceIdentity.EnrollAsync(server, "mq-missed-cert");
        using var suspended = await DeviceIdentity.EnrollAsync(server, "mq-missed-state");
        using var bystander = await DeviceIdentity.EnrollAsync(server, "mq-missed-ok");
        using var certClient = await MqttTestClient.ConnectAsync(server, revokedCert.Certificate, revokedCert.Id);
        using var stateClient = await MqttTestClient.ConnectAsync(server, suspended.Certificate, suspended.Id);
        using var okClient = await MqttTestClient.ConnectAsync(server, bystander.Certificate, bystander.Id);
        var certDropped = MqttTestClient.Disconnected(certClient);
        var stateDropped = MqttTestClient.Disconnected(stateClient);

        // Changed behind the listener's back: no NOTIFY, as if it had been sent while the listener was away.
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE certificates SET \"Status\" = $1, \"RevokedAt\" = now() WHERE \"DeviceId\" = $2", CertificateStatus.Revoked, revokedCert.Id));
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE devices SET \"State\" = $1 WHERE \"Id\" = $2", DeviceState.Suspended.Name(), suspended.Id));
        await Task.Delay(300);
        Assert.True(certClient.IsConnected && stateClient.IsConnected, "nothing should have told the broker yet");

        var terminated = await server.Database.ScalarAsync<long>($"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM ({ListenerBackends}) l");
        Assert.Equal(1L, terminated);

        await Task.WhenAll(certDropped, stateDropped).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(okClient.IsConnected);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>($"SELECT count(*) FROM ({ListenerBackends}) l"));
        var again = new MqttClientFactory().CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => again.ConnectAsync(MqttTestClient.Options(server, revokedCert.Certificate, revokedCert.Id)));
        await okClient.DisconnectAsync();
    }
}
