using System.IO.Pipelines;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Server.Broker;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;

namespace IotPki.Server.Tests.Broker;

/// <summary>A device that closes its connection in the middle of an MQTT packet: the broker ends that connection at
/// once and counts it (<c>connectionsClosedMidPacket</c> at <c>/api/v1/broker</c>). MQTTnet alone read the same half
/// packet again and again, a core at 100 % per such connection for the 100-s CONNECT timeout, which starved every
/// other client of the process.</summary>
public sealed class TruncatedPacketTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    /// <summary>The first bytes of an MQTT 3.1.1 CONNECT that announces 20 more.</summary>
    private static readonly byte[] HalfConnect = [0x10, 20, 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T'];

    /// <summary>PINGREQ, a whole packet of two bytes.</summary>
    private static readonly byte[] PingRequest = [0xC0, 0x00];

    [Fact]
    public async Task A_read_after_the_peer_closed_mid_packet_ends_the_connection_once_the_whole_packets_before_it_are_read()
    {
        var pipe = new Pipe();
        var closedMidPacket = 0;
        var reader = new MqttPacketSizeLimit.LimitedReader(pipe.Reader, 4096, _ => Assert.Fail("no packet here is too large"), () => closedMidPacket++);
        await pipe.Writer.WriteAsync(PingRequest.Concat(HalfConnect).ToArray());
        await pipe.Writer.CompleteAsync();

        var first = await reader.ReadAsync();
        Assert.True(first.IsCompleted);
        Assert.Equal(PingRequest.Length + HalfConnect.Length, first.Buffer.Length);
        reader.AdvanceTo(first.Buffer.GetPosition(PingRequest.Length), first.Buffer.End);
        Assert.Equal(0, closedMidPacket);

        await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await reader.ReadAsync());
        Assert.Equal(1, closedMidPacket);
    }

    [Fact]
    public async Task Whole_packets_followed_by_a_close_read_as_the_end_of_input()
    {
        var pipe = new Pipe();
        var reader = new MqttPacketSizeLimit.LimitedReader(pipe.Reader, 4096, _ => Assert.Fail("no packet here is too large"),
            () => Assert.Fail("whole packets only"));
        await pipe.Writer.WriteAsync(PingRequest.Concat(PingRequest).ToArray());
        await pipe.Writer.CompleteAsync();

        var read = await reader.ReadAsync();
        reader.AdvanceTo(read.Buffer.End);
        var end = await reader.ReadAsync();

        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    [Fact]
    public async Task The_broker_closes_its_end_of_each_connection_a_device_left_mid_packet_and_serves_on()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-half-packet");
        using var viewer = await OperatorClient.IssueAsync(server, "mq-half-viewer", OperatorRole.Viewer);
        using var api = OperatorClient.Create(server, viewer);
        var before = await ClosedMidPacketAsync(api);

        for (var i = 0; i < 4; i++)
        {
            await SendAndCloseAsync(device.Certificate, HalfConnect);
        }

        // Before the fix each of these sockets stayed in CLOSE-WAIT (the broker never closed its end) for 100 s.
        var waiting = -1;
        for (var attempt = 0; attempt < 150 && waiting != 0; attempt++)
        {
            await Task.Delay(200);
            var ss = await ChildProcess.RunAsync("ss", ["-Htn", "state", "close-wait", $"( sport = :{server.MqttPort} )"]);
            Assert.True(ss.ExitCode == 0, ss.Stderr);
            waiting = ss.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }
        Assert.Equal(0, waiting);
        Assert.Equal(before + 4, await ClosedMidPacketAsync(api));
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        Assert.True(client.IsConnected);
    }

    private static async Task<long> ClosedMidPacketAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<JsonElement>("/api/v1/broker")).GetProperty("connectionsClosedMidPacket").GetInt64();

    private async Task SendAndCloseAsync(X509Certificate2 certificate, byte[] bytes)
    {
        await using var connection = await RawBrokerConnection.OpenAsync(server, certificate);
        await connection.Tls.WriteAsync(bytes);
        await connection.Tls.FlushAsync();
        await connection.Tls.ShutdownAsync();
    }
}
