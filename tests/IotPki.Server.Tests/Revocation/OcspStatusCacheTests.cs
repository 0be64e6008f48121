using IotPki.Identity;
using IotPki.Server.Devices;
using IotPki.Server.Http;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Revocation;

/// <summary>OCSP answers from memory once a serial has been asked for, and a revocation on any instance still shows at
/// once: on the revoking instance before its API call returns, on the others as soon as the notice arrives.</summary>
public sealed class OcspStatusCacheTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_certificate_answered_good_from_memory_on_two_instances_is_revoked_on_both_after_a_revocation_on_one()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var certificate = await scenario.EnrollAsync("ocsp-cached-01");
        await using var second = await server.StartServerAsync(server.TempDirectory("ocsp-second-"));
        var secondUrl = new Uri(second.Services.GetRequiredService<ListenerEndpoints>().Uri(IotPki.Server.Revocation.RevocationListener.Name, "http"), "/ocsp");
        var firstUrl = new Uri(server.HttpBase, "/ocsp");
        Assert.Contains("ocsp-cached-01.pem: good", await AskAsync(scenario, firstUrl));
        Assert.Contains("ocsp-cached-01.pem: good", await AskAsync(scenario, secondUrl));

        await using (var scope = server.Services.CreateAsyncScope())
        {
            Assert.NotNull(await scope.ServiceProvider.GetRequiredService<DeviceLifecycle>()
                .RevokeAsync(DeviceId.Parse("ocsp-cached-01"), 1, "test", null, CancellationToken.None));
        }

        Assert.Contains("ocsp-cached-01.pem: revoked", await AskAsync(scenario, firstUrl));
        var answer = "";
        for (var i = 0; i < 50 && !answer.Contains("ocsp-cached-01.pem: revoked", StringComparison.Ordinal); i++)
        {
            answer = await AskAsync(scenario, secondUrl);
            await Task.Delay(100);
        }
        Assert.Contains("ocsp-cached-01.pem: revoked", answer);
        await second.StopAsync();
    }

    private static async Task<string> AskAsync(RevocationScenario scenario, Uri url)
    {
        var run = await scenario.ShellAsync($"openssl ocsp -issuer issuing.pem -cert ocsp-cached-01.pem -url '{url}' -CAfile ca.pem 2>&1");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        return run.Stdout;
    }
}
