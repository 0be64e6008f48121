using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using IotPki.Agent.Tests.Infrastructure;
using IotPki.Server.Ca;

namespace IotPki.Agent.Tests;

/// <summary>A connection lost between CONNECT and CONNACK says nothing of the identity (the broker may have accepted it
/// already): the agent's MQTT connector must not take it for a refusal, which would discard a new certificate.</summary>
public sealed class BrokerConnectorTests(ShortLivedServerFixture server) : IClassFixture<ShortLivedServerFixture>
{
    [Fact]
    public async Task A_connection_lost_before_CONNACK_is_no_refusal()
    {
        using var device = await AgentHarness.CreateAsync(server, "connector-lost-01");
        await device.RunUntilReadyAsync(device.Options(renewalFraction: 0.99, broker: true));
        using var identity = device.AssertUsableIdentity();
        // A broker that completes the TLS handshake, reads the CONNECT, and dies before it answers.
        using var tls = X509Certificate2.CreateFromPemFile(
            Path.Combine(server.DataDirectory, "pki", ServerTlsCertificate.CertificateFile), Path.Combine(server.DataDirectory, "pki", ServerTlsCertificate.KeyFile));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var dying = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            await using var stream = new SslStream(client.GetStream(), false, (_, _, _, _) => true);
            await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = tls, ClientCertificateRequired = true });
            var buffer = new byte[512];
            _ = await stream.ReadAsync(buffer);
            client.Client.LingerState = new LingerOption(true, 0);
        });
        var connector = new MqttBrokerConnector(
            new Endpoints(new Uri($"mqtts://localhost:{((IPEndPoint)listener.LocalEndpoint).Port}")), TrustBundle.Load(server.CaBundlePath), device.Log);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => connector.ConnectAsync(identity, CancellationToken.None));

        await dying;
        Assert.IsType<BrokerClosedBeforeConnAckException>(error);
    }

    [Fact]
    public async Task A_broker_whose_certificate_does_not_chain_to_the_trust_bundle_is_never_sent_a_CONNECT()
    {
        using var device = await AgentHarness.CreateAsync(server, "connector-stranger-01");
        await device.RunUntilReadyAsync(device.Options(renewalFraction: 0.99, broker: true));
        using var identity = device.AssertUsableIdentity();
        // Right name, valid dates, a CA the device never trusted.
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var impostor = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var received = -1;
        var peer = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            await using var stream = new SslStream(client.GetStream(), false, (_, _, _, _) => true);
            try
            {
                await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = impostor });
                received = await stream.ReadAsync(new byte[512]);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                received = 0;
            }
        });
        var connector = new MqttBrokerConnector(
            new Endpoints(new Uri($"mqtts://localhost:{((IPEndPoint)listener.LocalEndpoint).Port}")), TrustBundle.Load(server.CaBundlePath), device.Log);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => connector.ConnectAsync(identity, CancellationToken.None));

        await peer;
        Assert.Equal(0, received);
        Assert.IsNotType<BrokerRefusedException>(error);
        Assert.IsNotType<BrokerClosedBeforeConnAckException>(error);
    }
}
