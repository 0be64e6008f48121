using System.Net;
using System.Text;
using System.Text.Json;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

/// <summary>The operator API against hostile input: a NUL character anywhere is a 400 (it used to reach PostgreSQL and
/// answer 500), and a state-changing request another site makes a browser send is refused.</summary>
public sealed class HostileApiInputTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("/api/v1/devices?manufacturer=%00")]
    [InlineData("/api/v1/devices?state=active&after=dev%00")]
    [InlineData("/api/v1/audit?actor=%00")]
    [InlineData("/api/v1/audit?action=x%00y")]
    public async Task A_NUL_in_a_query_string_is_a_400_problem(string path)
    {
        using var api = await AdminAsync("nul-reader");

        using var response = await api.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("nul_character", await ReasonAsync(response));
    }

    [Fact]
    public async Task A_NUL_in_a_JSON_value_is_a_400_problem_and_registers_nothing()
    {
        using var api = await AdminAsync("nul-writer");

        using var response = await api.PostAsync("/api/v1/devices",
            new StringContent("""{"serial":"nul-json-0001","manufacturer":"demo\u0000"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("nul_character", await ReasonAsync(response));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" = 'nul-json-0001'"));
    }

    [Theory]
    [InlineData("https://evil.example", null)]
    [InlineData(null, "cross-site")]
    public async Task A_state_change_a_browser_sends_for_another_site_is_refused(string? origin, string? fetchSite)
    {
        await server.RegisterAsync("csrf-0001");
        using var api = await AdminAsync("csrf-admin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices/csrf-0001/suspend")
        {
            Content = new StringContent("x=1", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        using var response = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("cross_site_request", await ReasonAsync(response));
        Assert.Equal("registered", await server.Database.ScalarAsync<string>("SELECT \"State\" FROM devices WHERE \"Id\" = 'csrf-0001'"));
    }

    [Fact]
    public async Task The_same_origin_and_clients_without_an_origin_still_change_state()
    {
        await server.RegisterAsync("csrf-0002", "csrf-0003");
        using var api = await AdminAsync("csrf-owner");
        using var sameOrigin = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices/csrf-0002/suspend");
        sameOrigin.Headers.Add("Origin", server.OperatorBase.GetLeftPart(UriPartial.Authority));

        using var first = await api.SendAsync(sameOrigin);
        using var second = await api.PostAsync("/api/v1/devices/csrf-0003/suspend", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    private async Task<HttpClient> AdminAsync(string name)
    {
        var certificate = await OperatorClient.IssueAsync(server, name, OperatorRole.Admin);
        return OperatorClient.Create(server, certificate);
    }

    private static async Task<string?> ReasonAsync(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("reason").GetString();
    }
}
