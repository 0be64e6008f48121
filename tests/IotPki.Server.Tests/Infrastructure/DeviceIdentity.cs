using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>An enrolled device: registered, bootstrap minted, operational certificate obtained over EST; also as
/// PEM files for mosquitto clients.</summary>
public sealed class DeviceIdentity : IDisposable
{
    public required string Id { get; init; }
    public required X509Certificate2 Certificate { get; init; }
    public required string Directory { get; init; }
    public string CertPath => Path.Combine(Directory, "device.pem");
    public string KeyPath => Path.Combine(Directory, "device.key");

    public static async Task<DeviceIdentity> EnrollAsync(ServerFixture server, string id)
    {
        await server.RegisterAsync(id);
        using var boot = server.Bootstrap(id);
        using var est = EstClient.Create(server, boot);
        var (key, csr) = TestPki.Csr(id);
        using var response = await EstClient.PostCsrAsync(est, "simpleenroll", csr);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var issued = await EstClient.ReadCertificateAsync(response);
        return FromCertificate(id, issued.CopyWithPrivateKey(key));
    }

    public static DeviceIdentity FromCertificate(string id, X509Certificate2 withKey)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory($"iotpki-{id}-").FullName;
        TestPki.WritePem(withKey, Path.Combine(dir, "device.pem"), Path.Combine(dir, "device.key"));
        return new DeviceIdentity { Id = id, Certificate = withKey, Directory = dir };
    }

    /// <summary>An operational certificate that expired yesterday, signed by the real issuing CA.</summary>
    public static DeviceIdentity Expired(ServerFixture server, string id)
    {
        var issuer = new CertificateIssuer(server.Pki.Issuer.IssuingCa, server.Pki.Issuer.Endpoints, new PastClock(DateTimeOffset.UtcNow.AddDays(-2)));
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = issuer.Issue(CertificateProfile.Operational(TimeSpan.FromDays(1)), id, new PublicKey(key));
        return FromCertificate(id, issued.Certificate.CopyWithPrivateKey(key));
    }

    public void Dispose()
    {
        Certificate.Dispose();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }

    private sealed class PastClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
