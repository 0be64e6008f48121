using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

/// <summary>Each listener serves its own routes (EST on the EST port, not the operator port), a CSR asks only for the
/// names its device holds, and the operator API's refusals say how to authenticate and bound every list alike.</summary>
public sealed class ListenerScopeTests(ListenerScopeTests.Fixture server) : IClassFixture<ListenerScopeTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Logging:LogLevel:IotPki.Server.Operators"] = "Debug",
        };
    }

    [Fact]
    public async Task Operator_certificates_are_authenticated_on_the_operator_listener_only()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "scope-auth-1");
        using var est = EstClient.Create(server, device.Certificate);
        var (_, csr) = TestPki.Csr("scope-auth-1");
        var before = AuthenticationLogs();

        using (var reenroll = await EstClient.PostCsrAsync(est, "simplereenroll", csr))
        using (var cacerts = await est.GetAsync("cacerts"))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (reenroll.StatusCode, cacerts.StatusCode));
        }
        var afterEst = AuthenticationLogs();
        using var api = OperatorClient.Create(server, device.Certificate);
        using var refused = await api.GetAsync("/api/v1/devices");

        Assert.Equal(before, afterEst);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.True(AuthenticationLogs() > afterEst, "the operator listener's request was authenticated (and logged)");
    }

    private int AuthenticationLogs() =>
        server.Logs.Entries.Count(e => e.Category == typeof(OperatorAuthenticationHandler).FullName);

    [Fact]
    public async Task EST_is_not_served_on_the_operator_port()
    {
        await server.RegisterAsync("scope-0001");
        using var bootstrap = server.Bootstrap("scope-0001");
        using var onEst = EstClient.Create(server, bootstrap);
        using var onOperator = EstClient.Create(server, bootstrap);
        onOperator.BaseAddress = new Uri(server.OperatorBase, "/.well-known/est/");
        var (_, csr) = TestPki.Csr("scope-0001");

        using var cacerts = await onOperator.GetAsync("cacerts");
        using var enroll = await EstClient.PostCsrAsync(onOperator, "simpleenroll", csr);
        using var served = await onEst.GetAsync("cacerts");

        Assert.Equal(HttpStatusCode.NotFound, cacerts.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, enroll.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM certificates WHERE \"DeviceId\" = 'scope-0001'"));
    }

    [Theory]
    [InlineData("simpleenroll")]
    [InlineData("simplereenroll")]
    public async Task A_CSR_asking_for_a_DNS_name_is_refused_not_silently_trimmed(string operation)
    {
        var id = $"dns-{operation}";
        using var device = await DeviceIdentity.EnrollAsync(server, id);
        var client = operation == "simpleenroll" ? await AllowReprovisionAndBootstrapAsync(id) : device.Certificate;
        using var est = EstClient.Create(server, client);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={id}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("bank.example");
        request.CertificateExtensions.Add(san.Build());

        using var response = await EstClient.PostCsrAsync(est, operation, Convert.ToBase64String(request.CreateSigningRequest()));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("identity_mismatch", problem.RootElement.GetProperty("reason").GetString());
        var attempt = await server.WithDbAsync(db => db.EnrollmentAttempts.AsNoTracking()
            .Where(a => a.DeviceId == DeviceId.Parse(id) && a.Operation == operation).OrderByDescending(a => a.Id).FirstAsync());
        Assert.Equal(("refused", "identity_mismatch"), (attempt.Outcome, attempt.Reason));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM certificates WHERE \"DeviceId\" = $1", id));
    }

    [Theory]
    [InlineData("/api/v1/devices?limit=0")]
    [InlineData("/api/v1/devices?limit=5000")]
    [InlineData("/api/v1/audit?limit=0")]
    [InlineData("/api/v1/audit?limit=5000")]
    [InlineData("/api/v1/enrollments/pending?limit=5000")]
    public async Task Every_list_refuses_a_limit_out_of_range_alike(string path)
    {
        using var viewer = await OperatorClient.IssueAsync(server, $"limits-{Math.Abs(path.GetHashCode()) % 100000}", OperatorRole.Viewer);
        using var api = OperatorClient.Create(server, viewer);

        using var response = await api.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_401_says_how_to_authenticate()
    {
        using var anonymous = OperatorClient.Create(server, null);

        using var response = await anonymous.GetAsync("/api/v1/devices");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("ClientCertificate", response.Headers.WwwAuthenticate.ToString());
    }

    private async Task<X509Certificate2> AllowReprovisionAndBootstrapAsync(string id)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var change = await scope.ServiceProvider.GetRequiredService<IotPki.Server.Devices.DeviceLifecycle>()
            .AllowReprovisionAsync(DeviceId.Parse(id), "operator:test", null, CancellationToken.None);
        Assert.True(change.Done);
        return server.Bootstrap(id);
    }
}
