using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

public sealed class ServerKeyGenDisabledFixture : ServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Est:ServerKeyGen"] = "false" };
}

/// <summary>An operator who wants every key made on its device turns <c>serverkeygen</c> off.</summary>
public sealed class ServerKeyGenDisabledTests(ServerKeyGenDisabledFixture server) : IClassFixture<ServerKeyGenDisabledFixture>
{
    [Fact]
    public async Task With_serverkeygen_off_the_request_is_refused_with_a_reason_and_the_device_can_still_simpleenroll()
    {
        await server.RegisterAsync("nokeygen-01");
        using var bootstrap = server.Bootstrap("nokeygen-01");
        using var est = EstClient.Create(server, bootstrap);
        var (key, csr) = TestPki.Csr("nokeygen-01");
        using (key)
        {
            using var refused = await EstClient.PostCsrAsync(est, "serverkeygen", csr);
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("serverkeygen_disabled", await refused.Content.ReadAsStringAsync());

            using var enrolled = await EstClient.PostCsrAsync(est, "simpleenroll", csr);
            Assert.Equal(System.Net.HttpStatusCode.OK, enrolled.StatusCode);
        }
    }
}
