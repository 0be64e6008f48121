using IotPki.Server.Ca;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>Rollover and retirement with keys in tokens: the root key is opened in its token by the rollover only, the
/// new issuing key is generated in the issuing token, and retiring the old CA destroys its key object there.</summary>
public sealed class HsmRolloverTests(HsmServerFixture server) : IClassFixture<HsmServerFixture>
{
    [Fact]
    public async Task A_rollover_generates_the_new_key_in_the_token_and_retirement_destroys_the_old_one()
    {
        Assert.Equal(1, await PrivateKeysAsync(server.IssuingToken));
        IssuingCaRollover.Result result;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            result = await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync("test", CancellationToken.None);
        }
        Assert.Equal("pkcs11", result.KeyStore);
        Assert.Equal(2, await PrivateKeysAsync(server.IssuingToken));
        Assert.StartsWith($"pkcs11:token={server.IssuingToken};object=iotpki-issuing-", await server.Database.ScalarAsync<string>(
            $"SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = '{result.Current}'"));

        using var device = await DeviceIdentity.EnrollAsync(server, "hsm-roll-01");
        Assert.Equal(server.Pki.Issuing.Subject, device.Certificate.Issuer);
        var verify = await ChildProcess.ShellAsync($"cat '{server.CaBundlePath}' > ca.pem && openssl verify -CAfile ca.pem device.pem", device.Directory);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        var retired = await server.Services.GetRequiredService<IssuingCaRetirement>()
            .RetireExpiredAsync(DateTimeOffset.UtcNow.AddYears(6), CancellationToken.None);
        Assert.Equal([AuthorityRole.Issuing], retired);
        Assert.Equal(1, await PrivateKeysAsync(server.IssuingToken));
        Assert.Equal(1, await PrivateKeysAsync(server.RootToken));
    }

    private static async Task<int> PrivateKeysAsync(string token)
    {
        var listed = await SoftHsm.ListPrivateKeysAsync(token, HsmServerFixture.Pin);
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        return listed.Stdout.Split('\n').Count(l => l.StartsWith("Private Key Object", StringComparison.Ordinal));
    }
}
