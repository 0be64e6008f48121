using System.Net.Sockets;
using IotPki.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Tests.Broker;

/// <summary><c>Broker:MaxConcurrentHandshakes</c>: while that many TLS handshakes are in progress, a new connection is
/// closed on accept and audited with its address; once they end, devices connect again.</summary>
public sealed class HandshakeLimitTests(HandshakeLimitTests.Fixture server) : IClassFixture<HandshakeLimitTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Broker:MaxConcurrentHandshakes"] = "3",
        };
    }

    [Fact]
    public async Task A_connect_while_the_handshakes_are_taken_is_refused_and_audited_and_a_connect_after_they_end_gets_in()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-crowded");
        var silent = new List<TcpClient>();
        for (var i = 0; i < 3; i++)
        {
            // Connected but silent: each holds a handshake slot until it closes (or the handshake timeout).
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", server.MqttPort);
            silent.Add(tcp);
        }

        // One TLS attempt (openssl s_client); mosquitto_pub retries a connection lost in the handshake until its timeout.
        var refused = await ChildProcess.RunAsync("openssl", ["s_client", "-connect", $"localhost:{server.MqttPort}",
            "-CAfile", server.CaBundlePath, "-cert", device.CertPath, "-key", device.KeyPath], stdin: "");

        Assert.NotEqual(0, refused.ExitCode);
        var row = await AuditRowAsync();
        Assert.Equal("127.0.0.1", row.SourceAddress);
        Assert.StartsWith("handshakes_saturated: 3 TLS handshakes already in progress", row.Detail);

        foreach (var tcp in silent)
        {
            tcp.Dispose();
        }
        var admitted = await PublishAsync(device, "room again");
        for (var i = 0; i < 50 && admitted.ExitCode != 0; i++)
        {
            await Task.Delay(100);
            admitted = await PublishAsync(device, "room again");
        }
        Assert.True(admitted.ExitCode == 0, admitted.Stderr);
    }

    private Task<ChildProcess.Result> PublishAsync(DeviceIdentity device, string message) => ChildProcess.RunAsync("mosquitto_pub",
        ["-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath, "--cert", device.CertPath, "--key", device.KeyPath,
            "-i", device.Id, "-t", $"devices/{device.Id}/telemetry", "-m", message, "-q", "1"]);

    private async Task<IotPki.Server.Data.Entities.AuditEvent> AuditRowAsync()
    {
        for (var i = 0; ; i++)
        {
            var row = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
                .Where(a => a.Action == "mqtt.refused" && a.Detail!.StartsWith("handshakes_saturated:")).SingleOrDefaultAsync());
            if (row is not null || i == 100)
            {
                return row ?? throw new Xunit.Sdk.XunitException("no audit row for the refused connect");
            }
            await Task.Delay(50);
        }
    }
}
