using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>A running server renews its own TLS certificate before it expires: new connections get the new one, the
/// connections already open keep theirs and go on working, and the new certificate is recorded and audited.</summary>
public sealed class ServerTlsRenewalTests(ServerTlsRenewalTests.Fixture server) : IClassFixture<ServerTlsRenewalTests.Fixture>
{
    /// <summary>Hour-long server certificates checked every second, on a server clock the test moves forward.</summary>
    public sealed class Fixture : ServerFixture
    {
        public ShiftedClock ServerClock { get; } = new();

        protected override TimeProvider? Clock => ServerClock;

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Pki:ServerTlsLifetime"] = "01:00:00",
            ["Pki:ServerTlsCheckInterval"] = "00:00:01",
        };
    }

    public sealed class ShiftedClock : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }

    [Fact]
    public async Task A_certificate_past_two_thirds_of_its_life_is_replaced_without_a_restart_or_a_dropped_connection()
    {
        await using var open = await TlsConnection.OpenAsync(server.EstBase);
        var before = open.ServerCertificate;
        Assert.Equal("ok", await open.GetAsync("/healthz"));
        using var device = await DeviceIdentity.EnrollAsync(server, "tls-renewal-01");
        using var session = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);

        server.ServerClock.Advance(TimeSpan.FromMinutes(41));
        X509Certificate2? after = null;
        for (var i = 0; i < 100 && (after is null || after.SerialNumber == before.SerialNumber); i++)
        {
            await Task.Delay(100);
            await using var fresh = await TlsConnection.OpenAsync(server.EstBase);
            after = fresh.ServerCertificate;
        }

        Assert.NotNull(after);
        Assert.NotEqual(before.SerialNumber, after.SerialNumber);
        Assert.True(after.NotAfter > before.NotAfter.AddMinutes(40));
        // The connection opened before the renewal still answers, still on the old certificate.
        Assert.Equal("ok", await open.GetAsync("/healthz"));
        Assert.Equal(before.SerialNumber, open.ServerCertificate.SerialNumber);
        // Every listener serves the new certificate to a new client (openssl), and the MQTT session opened before the
        // renewal is still up.
        foreach (var port in new[] { server.OperatorBase.Port, server.MqttPort })
        {
            var handshake = await ChildProcess.ShellAsync(
                $"openssl s_client -connect 127.0.0.1:{port} -servername localhost -cert device.pem -key device.key </dev/null 2>/dev/null | openssl x509 -noout -serial",
                device.Directory);
            Assert.True(handshake.ExitCode == 0, $"port {port}: {handshake.Stderr}");
            Assert.Equal($"serial={after.SerialNumber}", handshake.Stdout.Trim(), ignoreCase: true);
        }
        Assert.True(session.IsConnected);
        var serial = after.SerialNumber.ToLowerInvariant();
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM certificates WHERE \"Serial\" = '{serial}' AND \"Kind\" = 'server' AND \"Status\" = 'valid'"));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_events WHERE \"Action\" = 'certificate.issued' AND \"Detail\" LIKE 'server TLS {serial} %'"));
    }

    /// <summary>One TLS connection kept open, HTTP/1.1 requests sent on it by hand (so no client reconnects behind our back).</summary>
    private sealed class TlsConnection : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly SslStream _tls;

        private TlsConnection(TcpClient tcp, SslStream tls)
        {
            _tcp = tcp;
            _tls = tls;
        }

        public X509Certificate2 ServerCertificate => new(_tls.RemoteCertificate!);

        public static async Task<TlsConnection> OpenAsync(Uri server)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync(server.Host, server.Port);
            // Which certificate is served is what this test reads; the server's clock runs ahead of ours.
            var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
            return new TlsConnection(tcp, tls);
        }

        public async Task<string> GetAsync(string path)
        {
            await _tls.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            var buffer = new byte[4096];
            var read = await _tls.ReadAsync(buffer);
            var response = Encoding.ASCII.GetString(buffer, 0, read);
            Assert.StartsWith("HTTP/1.1 200", response);
            return response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        }

        public async ValueTask DisposeAsync()
        {
            await _tls.DisposeAsync();
            _tcp.Dispose();
        }
    }
}
