using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using MQTTnet;
using MQTTnet.Formatter;

namespace IotPki.FirmwareSim;

/// <summary>An MQTT broker over mTLS, as the benchmarks reach it: host, port and the CA bundle that must have issued
/// its certificate. The same client options serve our broker and Mosquitto.</summary>
public sealed class MqttEndpoint
{
    private readonly X509Certificate2 _anchor;
    private readonly X509Certificate2[] _intermediates;

    public MqttEndpoint(string host, int port, string caBundlePath)
    {
        Host = host;
        Port = port;
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPemFile(caBundlePath);
        _anchor = bundle.First(c => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData));
        _intermediates = bundle.Where(c => !ReferenceEquals(c, _anchor)).ToArray();
    }

    public string Host { get; }
    public int Port { get; }

    public static X509Certificate2 LoadIdentity(string certPath, string keyPath) =>
        X509Certificate2.CreateFromPemFile(certPath, keyPath);

    /// <param name="socketBufferBytes">The TCP socket's receive and send buffer. MQTTnet sets 8 KiB unless told: a
    /// receive window that small, against a broker with megabytes to send, stalls in TCP's zero-window probing
    /// (bench/results/20261130-broker-qos-profile.md).</param>
    public MqttClientOptions Options(X509Certificate2 certificate, string clientId, int? socketBufferBytes = null)
    {
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .WithTlsOptions(o =>
            {
                o.UseTls();
                o.WithTargetHost(Host);
                o.WithClientCertificates([certificate]);
                o.WithCertificateValidationHandler(e => e.Certificate is X509Certificate2 c
                    && ChainValidator.Validate(c, _anchor, _intermediates, DateTimeOffset.UtcNow) == ChainVerdict.Valid);
            })
            .Build();
        if (socketBufferBytes is { } bytes)
        {
            ((MqttClientTcpOptions)options.ChannelOptions).BufferSize = bytes;
        }
        return options;
    }

    /// <summary>Connects a new client (a new TCP and TLS connection) and throws unless the broker accepted it.</summary>
    public async Task<IMqttClient> ConnectAsync(X509Certificate2 certificate, string clientId, CancellationToken ct, int? socketBufferBytes = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            var result = await client.ConnectAsync(Options(certificate, clientId, socketBufferBytes), ct);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new InvalidOperationException($"{clientId}: CONNACK {result.ResultCode} {result.ReasonString}");
            }
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
