using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace IotPki.Agent;

/// <summary>MQTTnet 5 client over TLS with the device certificate; client id = device id; subscribes to its renew command.
/// A broker that cannot be reached sends the next attempt to the next of <paramref name="brokers"/>.</summary>
public sealed class MqttBrokerConnector(Endpoints brokers, TrustBundle trust, ILogger logger) : IBrokerConnector
{
    public async Task<IBrokerSession> ConnectAsync(DeviceIdentity identity, CancellationToken ct)
    {
        var brokerUrl = brokers.Current;
        try
        {
            return await ConnectAsync(brokerUrl, identity, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (brokers.Count > 1 && e is not BrokerRefusedException && !ct.IsCancellationRequested)
        {
            logger.LogWarning("Broker {Broker} unreachable; the next attempt goes to {Next}", brokerUrl, brokers.Next(brokerUrl));
            throw;
        }
    }

    private async Task<IBrokerSession> ConnectAsync(Uri brokerUrl, DeviceIdentity identity, CancellationToken ct)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var certificate = identity.ToTlsCertificate();
        var deviceId = identity.DeviceId;
        var host = brokerUrl.Host;
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, brokerUrl.Port > 0 ? brokerUrl.Port : 8883)
            .WithClientId(deviceId.Value)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart()
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(15))
            .WithTlsOptions(tls => tls
                .UseTls()
                .WithTargetHost(host)
                .WithClientCertificates([certificate])
                .WithTrustChain(trust.Certificates)
                // As TrustBundle.ChainPolicy: the handshake fetches nothing. Left online, every connect's chain failed on
                // revocation and was built a second time by Verifies.
                .WithRevocationMode(X509RevocationMode.NoCheck)
                .WithCertificateValidationHandler(e =>
                    e.Certificate is X509Certificate2 c
                    && (e.SslPolicyErrors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
                    && (trust.EndsInRoot(e.SslPolicyErrors, e.Chain)
                        || trust.Verifies(c, e.Chain?.ChainElements.Select(x => x.Certificate), DateTimeOffset.UtcNow))))
            .Build();
        var session = new Session(client, certificate, $"devices/{deviceId}/commands/renew", logger);
        try
        {
            MqttClientConnectResult result;
            try
            {
                result = await client.ConnectAsync(options, ct).ConfigureAwait(false);
            }
            catch (MQTTnet.Adapter.MqttConnectingFailedException e) when (NamesRefusal(e))
            {
                // The broker answered CONNACK with a refusal of this identity.
                throw new BrokerRefusedException(e.Message);
            }
            catch (MQTTnet.Adapter.MqttConnectingFailedException e)
            {
                // Any other failure to connect (the connection lost before CONNACK, a server going down) says nothing
                // of the identity: the broker may even have accepted it. Treated as a refusal, a new certificate the
                // server already holds as current would be thrown away, and the device left on a superseded one.
                throw new BrokerClosedBeforeConnAckException($"Connecting failed: {e.Message}", e);
            }
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                if (IsRefusal(result.ResultCode))
                {
                    throw new BrokerRefusedException($"{result.ResultCode} {result.ReasonString}");
                }
                throw new IOException($"The broker answered {result.ResultCode} {result.ReasonString}");
            }
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                .WithTopicFilter(session.RenewTopic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct).ConfigureAwait(false);
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>MQTTnet 5's exception carries no result, only a message naming the CONNACK code when there was one.</summary>
    private static bool NamesRefusal(Exception e) =>
        RefusalCodes.Any(code => e.Message.Contains(code.ToString(), StringComparison.Ordinal));

    private static readonly MqttClientConnectResultCode[] RefusalCodes =
    [
        MqttClientConnectResultCode.NotAuthorized, MqttClientConnectResultCode.BadUserNameOrPassword,
        MqttClientConnectResultCode.Banned, MqttClientConnectResultCode.ClientIdentifierNotValid,
    ];

    private static bool IsRefusal(MqttClientConnectResultCode code) => RefusalCodes.Contains(code);

    private sealed class Session : IBrokerSession
    {
        private readonly IMqttClient _client;
        private readonly X509Certificate2 _certificate;
        private readonly TaskCompletionSource<RenewAsk> _renew = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Session(IMqttClient client, X509Certificate2 certificate, string renewTopic, ILogger logger)
        {
            _client = client;
            _certificate = certificate;
            var serial = certificate.SerialNumber.ToLowerInvariant();
            RenewTopic = renewTopic;
            client.ApplicationMessageReceivedAsync += e =>
            {
                if (e.ApplicationMessage.Topic == RenewTopic)
                {
                    logger.LogInformation("Renew command received on {Topic}", RenewTopic);
                    _renew.TrySetResult(RenewAsk.Parse(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
                }
                return Task.CompletedTask;
            };
            client.DisconnectedAsync += e =>
            {
                if (e.ClientWasConnected)
                {
                    logger.LogWarning("Broker connection closed: {Reason} {ReasonString} (certificate {Serial})", e.Reason, e.ReasonString, serial);
                }
                _closed.TrySetResult();
                return Task.CompletedTask;
            };
        }

        public string RenewTopic { get; }
        public Task<RenewAsk> RenewRequested => _renew.Task;
        public Task Closed => _closed.Task;

        public Task PublishTelemetryAsync(ReadOnlyMemory<byte> payload, CancellationToken ct) =>
            _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(TelemetryTopic).WithPayload(payload.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build(), ct);

        private string TelemetryTopic => RenewTopic[..RenewTopic.IndexOf("/commands/", StringComparison.Ordinal)] + "/telemetry";

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (_client.IsConnected)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is MqttCommunicationException or OperationCanceledException or IOException)
            {
                // The connection died before a polite DISCONNECT could be sent; the broker sees it closed either way.
            }
            _client.Dispose();
            _certificate.Dispose();
        }
    }
}
