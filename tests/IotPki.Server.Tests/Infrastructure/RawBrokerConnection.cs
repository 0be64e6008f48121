using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>A mutual-TLS connection to the broker that carries raw bytes, for tests that send what no MQTT client
/// would: half packets, mutated packets. The broker's certificate is checked against the server's own CAs.</summary>
internal sealed class RawBrokerConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;

    private RawBrokerConnection(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        Tls = tls;
    }

    public SslStream Tls { get; }

    public static async Task<RawBrokerConnection> OpenAsync(ServerFixture server, X509Certificate2 certificate)
    {
        var tcp = new TcpClient();
        SslStream? tls = null;
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, server.MqttPort);
            tls = new SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = [certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 broker
                    && ChainValidator.Validate(broker, server.Pki.Root, [server.Pki.Issuing], DateTimeOffset.UtcNow)
                        == ChainVerdict.Valid,
            });
            return new RawBrokerConnection(tcp, tls);
        }
        catch
        {
            if (tls is not null)
            {
                await tls.DisposeAsync();
            }
            tcp.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Tls.DisposeAsync();
        _tcp.Dispose();
    }
}
