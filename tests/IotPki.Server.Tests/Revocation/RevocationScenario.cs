using System.Net;
using System.Security.Cryptography.X509Certificates;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Revocation;

/// <summary>Devices enrolled over EST and revoked in the database, with their PEM files in a work directory for openssl.</summary>
public sealed class RevocationScenario(ServerFixture server) : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("iotpki-revocation-").FullName;

    /// <summary>The issuing CA as PEM (<c>issuing.pem</c>) and the service's CA bundle, root and issuing (<c>ca.pem</c>).</summary>
    public void WriteCaFiles()
    {
        File.WriteAllText(Path.Combine(Directory, "issuing.pem"), server.Pki.Issuing.ExportCertificatePem() + "\n");
        File.Copy(server.CaBundlePath, Path.Combine(Directory, "ca.pem"), overwrite: true);
    }

    /// <summary>Enrolls <paramref name="deviceId"/> over EST and writes its certificate as <c>&lt;deviceId&gt;.pem</c>.</summary>
    public async Task<X509Certificate2> EnrollAsync(string deviceId)
    {
        await server.RegisterAsync(deviceId);
        using var bootstrap = server.Bootstrap(deviceId);
        using var client = EstClient.Create(server, bootstrap);
        var (key, csr) = TestPki.Csr(deviceId);
        using (key)
        {
            using var response = await EstClient.PostCsrAsync(client, "simpleenroll", csr);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var issued = await EstClient.ReadCertificateAsync(response);
            File.WriteAllText(Path.Combine(Directory, $"{deviceId}.pem"), issued.ExportCertificatePem() + "\n");
            return issued;
        }
    }

    /// <summary>Marks the certificate revoked, as the fleet's revocation does.</summary>
    public async Task RevokeAsync(X509Certificate2 certificate, int reason = 1)
    {
        var rows = await server.Database.ExecuteAsync(
            "UPDATE certificates SET \"Status\" = 'revoked', \"RevokedAt\" = now(), \"RevocationReason\" = $2 WHERE \"Serial\" = $1",
            SerialHex(certificate), reason);
        Assert.Equal(1, rows);
    }

    public static string SerialHex(X509Certificate2 certificate) => certificate.SerialNumber.ToLowerInvariant();

    public Task<ChildProcess.Result> ShellAsync(string script) => ChildProcess.ShellAsync(script, Directory);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
