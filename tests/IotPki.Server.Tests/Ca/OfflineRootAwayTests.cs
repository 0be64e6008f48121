using IotPki.Server.Ca;
using IotPki.Server.Http;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>The root key carried off the server machine, as docs/ca-keys.md tells an operator to: servers start and
/// serve without it, <c>ca rollover</c> without it refuses in one line, changes nothing and leaves an audit row, and
/// with the key brought back for the ceremony the same command rolls over.</summary>
public sealed class OfflineRootAwayTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Servers_run_without_the_root_key_and_a_rollover_waits_for_it_to_be_brought_back()
    {
        var reference = await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'root'");
        var rootFile = reference["file:".Length..];
        var media = Path.Combine(server.TempDirectory("removable-media-"), Path.GetFileName(rootFile));
        File.Move(rootFile, media);

        // A server started with the root key away loads its CAs, issues its TLS certificate and serves.
        await using var second = await server.StartServerAsync(server.TempDirectory("rootless-"));
        var secondHttp = second.Services.GetRequiredService<ListenerEndpoints>().Uri(IotPki.Server.Revocation.RevocationListener.Name, "http");
        using (var http = new HttpClient())
        using (var crl = await http.GetAsync(new Uri(secondHttp, "/crl/issuing.crl")))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, crl.StatusCode);
        }
        using (var device = await DeviceIdentity.EnrollAsync(server, "rootless-01"))
        {
            Assert.Equal(server.Pki.Issuing.Subject, device.Certificate.Issuer);
        }

        var refused = await RolloverAsync();

        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: Rollover refused, nothing changed: the root key could not be opened", line);
        Assert.Contains(rootFile, line);
        Assert.Equal(3L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM authorities"));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'ca.rollover_refused' AND \"Actor\" LIKE 'cli:%' AND \"Detail\" LIKE $1",
            $"%{rootFile}%"));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" IN ('ca.root_key_used', 'ca.key_generated', 'ca.rollover')"));

        File.Move(media, rootFile);
        var rolled = await RolloverAsync();

        Assert.True(rolled.ExitCode == 0, rolled.Stderr);
        Assert.Contains("Issuing CA rolled over: issuing -> issuing-", rolled.Stdout);
        Assert.Contains("2 running server instance(s) sign with", rolled.Stdout);
        var secondPki = second.Services.GetRequiredService<PkiState>();
        Assert.Equal(server.Pki.Issuing.Thumbprint, secondPki.Issuing.Thumbprint);
        Assert.Equal(2, secondPki.Authorities.Count);
        await second.StopAsync();
    }

    private Task<ChildProcess.Result> RolloverAsync() =>
        ServerCli.RunAsync(["ca", "rollover"],
            timeout: TimeSpan.FromMinutes(2),
            environment: new Dictionary<string, string>
            {
                ["ConnectionStrings__IotPki"] = server.Database.ConnectionString,
                ["Ca__Passphrase"] = ServerFixture.Passphrase,
                ["Ca__OfflineRootDirectory"] = Path.Combine(server.DataDirectory, "offline-root"),
            });
}
