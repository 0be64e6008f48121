using System.Net;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Fleet;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

public sealed class ManufacturerRegistrationTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Devices_of_a_newly_registered_manufacturer_enroll_with_the_serial_in_subject_serialNumber()
    {
        using var ca = TestPki.NewCa("Acme Devices CA");
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var registration = scope.ServiceProvider.GetRequiredService<ManufacturerRegistration>();
            await registration.RegisterAsync("acme", ca.CertificatePem, DeviceIdField.SerialNumber, "test", CancellationToken.None);
            await scope.ServiceProvider.GetRequiredService<DeviceRegistration>().RegisterAsync("acme", ["acme-7"], "test", CancellationToken.None);
        }
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var bootstrapPublic = BootstrapIssuer.Issue(ca, DeviceId.Parse("acme-7"), key, DateTimeOffset.UtcNow.AddMinutes(-1),
            DateTimeOffset.UtcNow.AddDays(1), DeviceIdField.SerialNumber);
        using var bootstrap = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(bootstrapPublic, key);
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("acme-7").CsrBase64);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_leaf_certificate_is_refused_as_a_manufacturer_CA()
    {
        using var ca = TestPki.NewCa("Some CA");
        using var leaf = TestPki.Device("leaf-001").SignedBy(ca).Build();
        await using var scope = server.Services.CreateAsyncScope();
        var registration = scope.ServiceProvider.GetRequiredService<ManufacturerRegistration>();

        var e = await Assert.ThrowsAsync<RegistrationException>(() =>
            registration.RegisterAsync("leafy", leaf.ExportCertificatePem(), DeviceIdField.CommonName, "test", CancellationToken.None));

        Assert.Contains("not a CA", e.Message);
    }
}
