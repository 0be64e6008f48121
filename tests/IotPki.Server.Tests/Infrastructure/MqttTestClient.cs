using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using MQTTnet;
using MQTTnet.Formatter;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>An MQTTnet client over mTLS to a server instance's broker, trusting only the service's root.</summary>
public static class MqttTestClient
{
    public static MqttClientOptions Options(ServerFixture server, X509Certificate2? certificate, string? clientId, int? port = null) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", port ?? server.MqttPort)
            .WithClientId(clientId ?? "")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(o =>
            {
                o.UseTls();
                o.WithTargetHost("localhost");
                if (certificate is not null)
                {
                    o.WithClientCertificates([certificate]);
                }
                o.WithCertificateValidationHandler(e => e.Certificate is X509Certificate2 c
                    && ChainValidator.Validate(c, server.Pki.Root, [server.Pki.Issuing], DateTimeOffset.UtcNow) == ChainVerdict.Valid);
            })
            .Build();

    public static async Task<IMqttClient> ConnectAsync(ServerFixture server, X509Certificate2 certificate, string? clientId, int? port = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options(server, certificate, clientId, port));
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    /// <summary>Completes when the client's connection drops.</summary>
    public static Task Disconnected(IMqttClient client)
    {
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += _ =>
        {
            dropped.TrySetResult();
            return Task.CompletedTask;
        };
        return dropped.Task;
    }
}
