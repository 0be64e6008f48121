using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Pki;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using IotPki.Tests.Shared;

namespace IotPki.Server.Tests.Fuzzing;

/// <summary>The real server over its sockets, fed mutations of valid requests (deterministic seeds, a bounded number
/// per surface): never a 5xx, every EST request leaves its own enrollment row, and afterwards the server still
/// enrolls a device and carries its messages. The per-surface counts are the constants below.</summary>
public sealed class NetworkFuzzTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const int EstInputs = 250;
    private const int ApiInputs = 150;
    private const int MqttInputs = 120;

    [Fact]
    public async Task Mutated_CSRs_on_enroll_reenroll_and_serverkeygen_get_4xx_or_a_certificate_and_each_leaves_its_row()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "fuzz-est-0001");
        await server.RegisterAsync("fuzz-est-0002");
        using var bootstrap = server.Bootstrap("fuzz-est-0002");
        using var asDevice = EstClient.Create(server, device.Certificate);
        using var asBootstrap = EstClient.Create(server, bootstrap);
        var (_, reenrollCsr) = TestPki.Csr("fuzz-est-0001");
        var (_, enrollCsr) = TestPki.Csr("fuzz-est-0002");
        var rowsBefore = await RowsOfAsync(device.Certificate, bootstrap);
        var failures = new List<string>();

        for (var seed = 0; seed < EstInputs; seed++)
        {
            var (client, sample, operation) = (seed % 3) switch
            {
                0 => (asDevice, reenrollCsr, "simplereenroll"),
                1 => (asBootstrap, enrollCsr, "simpleenroll"),
                _ => (asDevice, reenrollCsr, "serverkeygen"),
            };
            var body = seed % 2 == 0
                ? Convert.ToBase64String(InputMutations.MutateDer(Convert.FromBase64String(sample), seed))
                : InputMutations.MutateText(sample, seed);
            using var response = await EstClient.PostCsrAsync(client, operation, body);
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"seed {seed} {operation}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.Empty(failures);
        Assert.Equal(rowsBefore + EstInputs, await RowsOfAsync(device.Certificate, bootstrap));
        using var fresh = await DeviceIdentity.EnrollAsync(server, "fuzz-est-after");
    }

    [Fact]
    public async Task Mutated_JSON_query_strings_and_CSV_on_the_operator_API_never_get_a_5xx()
    {
        using var admin = await OperatorClient.IssueAsync(server, "fuzz-admin", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        await server.RegisterAsync("fuzz-api-0001");
        (HttpMethod Method, string Path, string Body, string Type)[] samples =
        [
            (HttpMethod.Post, "/api/v1/devices", """{"serial":"fuzz-api-0100","manufacturer":"demo"}""", "application/json"),
            (HttpMethod.Post, "/api/v1/devices/fuzz-api-0001/revoke", """{"reason":"keyCompromise"}""", "application/json"),
            (HttpMethod.Put, "/api/v1/manufacturers/demo/profile", """{"operationalLifetime":"30.00:00:00","renewalWindowStart":0.6,"renewalAtRisk":0.9}""", "application/json"),
            (HttpMethod.Post, "/api/v1/renewals/campaigns", """{"manufacturer":"demo","within":"01:00:00"}""", "application/json"),
            (HttpMethod.Post, "/api/v1/manufacturers", """{"name":"fuzz-maker","caCertificatePem":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----","deviceIdField":"cn"}""", "application/json"),
            (HttpMethod.Post, "/api/v1/devices/import?manufacturer=demo", "serial\nfuzz-csv-0001\nfuzz-csv-0002\n", "text/csv"),
            (HttpMethod.Get, "/api/v1/devices?state=active&manufacturer=demo&limit=10&after=fuzz-a&renewal=asked", "", ""),
            (HttpMethod.Get, "/api/v1/audit?action=device.registered&actor=op&deviceId=fuzz-api-0001&limit=5", "", ""),
        ];
        var failures = new List<string>();

        for (var seed = 0; seed < ApiInputs; seed++)
        {
            var (method, path, body, type) = samples[seed % samples.Length];
            using var request = method == HttpMethod.Get
                ? new HttpRequestMessage(method, MutatedQuery(path, seed))
                : new HttpRequestMessage(method, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(InputMutations.MutateText(body, seed))) };
            request.Content?.Headers.TryAddWithoutValidation("Content-Type", type);
            using var response = await api.SendAsync(request);
            if ((int)response.StatusCode >= 500)
            {
                failures.Add($"seed {seed} {method} {request.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.Empty(failures);
        using var list = await api.GetAsync("/api/v1/devices?limit=1");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public async Task Mutated_MQTT_packets_from_a_trusted_device_drop_that_connection_and_the_broker_serves_on()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "fuzz-mqtt-0001");
        var connect = Connect("fuzz-mqtt-0001");
        var publish = Publish("devices/fuzz-mqtt-0001/telemetry", "{\"t\":21.5}");

        for (var seed = 0; seed < MqttInputs; seed++)
        {
            var packets = seed % 2 == 0
                ? InputMutations.MutateDer(connect, seed)
                : [.. connect, .. InputMutations.MutateDer(publish, seed)];
            await SendRawAsync(device.Certificate, packets);
        }

        using var listener = await MqttTestClient.ConnectAsync(server, device.Certificate, "fuzz-mqtt-0001");
        Assert.True(listener.IsConnected);
        using var fresh = await DeviceIdentity.EnrollAsync(server, "fuzz-mqtt-after");
    }

    private async Task SendRawAsync(X509Certificate2 certificate, byte[] bytes)
    {
        try
        {
            await using var connection = await RawBrokerConnection.OpenAsync(server, certificate);
            await connection.Tls.WriteAsync(bytes);
            using var answered = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            _ = await connection.Tls.ReadAsync(new byte[256], answered.Token);  // an answer, or the close: either will do
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or AuthenticationException)
        {
            // The broker closing the connection (or refusing a device that keeps sending garbage, at the handshake),
            // or waiting for more of a packet it was promised, is its answer.
        }
    }

    private static string MutatedQuery(string path, int seed)
    {
        var question = path.IndexOf('?');
        return path[..(question + 1)] + Uri.EscapeDataString(InputMutations.MutateText(path[(question + 1)..], seed))
            .Replace("%3D", "=", StringComparison.Ordinal).Replace("%26", "&", StringComparison.Ordinal);
    }

    private async Task<long> RowsOfAsync(params X509Certificate2[] clients)
    {
        var thumbprints = clients.Select(CertificateIdentifiers.Thumbprint).ToArray();
        return await server.Database.ScalarAsync<long>("SELECT count(*) FROM enrollment_attempts WHERE \"ClientThumbprint\" = ANY($1)", (object)thumbprints);
    }

    /// <summary>An MQTT 3.1.1 CONNECT (clean session, keep-alive 60 s).</summary>
    private static byte[] Connect(string clientId)
    {
        var id = Encoding.UTF8.GetBytes(clientId);
        byte[] variable = [0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02, 0, 60, (byte)(id.Length >> 8), (byte)id.Length, .. id];
        return [0x10, (byte)variable.Length, .. variable];
    }

    /// <summary>An MQTT 3.1.1 QoS 1 PUBLISH, packet id 1.</summary>
    private static byte[] Publish(string topic, string payload)
    {
        var t = Encoding.UTF8.GetBytes(topic);
        byte[] variable = [(byte)(t.Length >> 8), (byte)t.Length, .. t, 0, 1, .. Encoding.UTF8.GetBytes(payload)];
        return [0x32, (byte)variable.Length, .. variable];
    }
}
