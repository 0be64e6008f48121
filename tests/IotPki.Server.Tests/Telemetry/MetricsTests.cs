using System.Net;
using System.Net.Http.Json;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Telemetry;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Telemetry;

/// <summary>Meters are process-wide, and a test server's /metrics would also count what other test servers in this
/// process do: this collection runs alone, so every change it sees is its own.</summary>
[CollectionDefinition(nameof(MetricsCollection), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary><c>/metrics</c> in Prometheus text on the operator port for operators, and on the plain metrics port when
/// configured: scraped before and after real traffic, each counter moves by what the traffic did.</summary>
[Collection(nameof(MetricsCollection))]
public sealed class MetricsTests(MetricsTests.Fixture server) : IClassFixture<MetricsTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Telemetry:MetricsPort"] = "0",
            ["Renewal:StatusCountsInterval"] = "00:00:00.200",
        };

        public Uri MetricsBase => Services.GetRequiredService<ListenerEndpoints>().Uri(TelemetryFeature.MetricsListener, "http");
    }

    [Fact]
    public async Task Counters_move_with_enrollments_refusals_revocations_connects_and_OCSP()
    {
        using var viewerCertificate = await OperatorClient.IssueAsync(server, "metrics-viewer", OperatorRole.Viewer);
        using var adminCertificate = await OperatorClient.IssueAsync(server, "metrics-admin", OperatorRole.Admin);
        using var viewer = OperatorClient.Create(server, viewerCertificate);
        using var admin = OperatorClient.Create(server, adminCertificate);
        var before = await ScrapeAsync(viewer);

        using var first = await DeviceIdentity.EnrollAsync(server, "metrics-1");
        using var second = await DeviceIdentity.EnrollAsync(server, "metrics-2");
        using var third = await DeviceIdentity.EnrollAsync(server, "metrics-3");
        using (var stranger = server.Bootstrap("metrics-unregistered"))
        using (var est = EstClient.Create(server, stranger))
        using (var refused = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr("metrics-unregistered").CsrBase64))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var mqtt = await MqttTestClient.ConnectAsync(server, first.Certificate, first.Id))
        {
            Assert.True(mqtt.IsConnected);
            var during = await ScrapeAsync(viewer);
            Assert.True(during.Sum("iotpki_broker_connections") >= 1);
        }
        using (var revoke = await OperatorClient.PostJsonAsync(admin, "/api/v1/devices/metrics-3/revoke", new { reason = "keyCompromise" }))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }
        using (var crl = new HttpClient { BaseAddress = server.HttpBase })
        {
            (await crl.GetAsync("/crl/issuing.crl")).EnsureSuccessStatusCode();
        }
        var after = await ScrapeAsync(viewer);

        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(3, Delta("iotpki_est_requests_total", ("operation", "simpleenroll"), ("outcome", "issued")));
        Assert.Equal(1, Delta("iotpki_est_refusals_total", ("operation", "simpleenroll"), ("reason", "unregistered_serial")));
        Assert.Equal(4, Delta("iotpki_est_duration_seconds_count", ("operation", "simpleenroll")));
        Assert.Equal(3, Delta("iotpki_certificates_issued_total", ("kind", "enrollment")));
        Assert.Equal(1, Delta("iotpki_certificates_revoked_total"));
        Assert.True(Delta("iotpki_ca_signatures_total", ("signed", "certificate")) >= 3);
        Assert.True(Delta("iotpki_ca_signatures_total", ("signed", "crl")) >= 1);
        Assert.True(after.Sum("iotpki_crl_entries") >= 1);
        Assert.True(after.Sum("iotpki_crl_size_bytes") > 0);
        Assert.True(Delta("iotpki_crl_build_duration_seconds_count") >= 1);
        Assert.True(after.Has("db_client_connection_count") || after.Has("db_client_connections_usage"), "Npgsql's pool metrics are exported");
        Assert.True(after.Has("http_server_request_duration_seconds_bucket"), "ASP.NET Core's request durations are exported");

        // The renewal gauge is the database's own count of active devices by status.
        var scheduled = await server.Database.ScalarAsync<long>("""
            SELECT count(*) FROM device_renewals r JOIN devices d ON d."Id" = r."DeviceId"
            WHERE d."State" = 'active' AND r."Status" = 'scheduled'
            """);
        Assert.Equal(2, scheduled);
        await WaitForAsync(async () => (await ScrapeAsync(viewer)).Sum("iotpki_renewal_devices", ("status", "scheduled")) == scheduled);
    }

    [Fact]
    public async Task A_renewal_ask_is_counted()
    {
        using var adminCertificate = await OperatorClient.IssueAsync(server, "metrics-asker", OperatorRole.Admin);
        using var admin = OperatorClient.Create(server, adminCertificate);
        using var device = await DeviceIdentity.EnrollAsync(server, "metrics-ask");
        var before = await ScrapeAsync(admin);
        using (var renew = await OperatorClient.PostJsonAsync(admin, "/api/v1/devices/metrics-ask/renew"))
        {
            Assert.Equal(HttpStatusCode.Accepted, renew.StatusCode);
        }
        var after = await ScrapeAsync(admin);
        Assert.Equal(1, after.Sum("iotpki_renewal_asks_total", ("by", "operator")) - before.Sum("iotpki_renewal_asks_total", ("by", "operator")));
    }

    [Fact]
    public async Task Only_operators_scrape_the_operator_port_and_the_metrics_port_serves_metrics_alone()
    {
        using var anonymous = OperatorClient.Create(server, null);
        using (var response = await anonymous.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using var serviceCertificate = await OperatorClient.IssueAsync(server, "metrics-service", OperatorRole.Service);
        using var service = OperatorClient.Create(server, serviceCertificate);
        using (var response = await service.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        using var device = await DeviceIdentity.EnrollAsync(server, "metrics-device");
        using (var est = EstClient.Create(server, device.Certificate))
        using (var response = await est.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        // Prometheus without a client certificate: curl on the plain metrics port.
        var work = server.TempDirectory("metrics-curl");
        var run = await ChildProcess.ShellAsync($$"""
            curl -sS -o metrics.txt -w '%{http_code} %{content_type}\n' '{{new Uri(server.MetricsBase, "/metrics")}}'
            curl -sS -o /dev/null -w '%{http_code}\n' '{{new Uri(server.MetricsBase, "/healthz")}}'
            curl -sS -o /dev/null -w '%{http_code}\n' '{{new Uri(server.MetricsBase, "/api/v1/devices")}}'
            """, work);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var codes = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("200 text/plain", codes[0]);
        Assert.Equal(["404", "404"], codes[1..]);
        Assert.True(new PrometheusText(File.ReadAllText(Path.Combine(work, "metrics.txt"))).Has("iotpki_est_requests_total"));
    }

    private static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail("the condition did not hold within 10 s");
    }
}
