using System.Net;
using IotPki.Admin;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

/// <summary>The operator command line (iotpki-admin) against the real operator API.</summary>
public sealed class AdminCliTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private Task<string[]> CredentialsAsync(string name, string role) => AdminCli.CredentialsAsync(server, name, role);

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => AdminCli.RunAsync(args);

    [Fact]
    public async Task Devices_list_shows_a_table_of_the_fleet()
    {
        await server.RegisterAsync("cli-list-01");
        var auth = await CredentialsAsync("cli-viewer", OperatorRole.Viewer);

        var (exit, output, _) = await RunAsync(["devices", "list", "--state", "registered", .. auth]);

        Assert.Equal(0, exit);
        Assert.Contains("cli-list-01", output);
        Assert.Contains("registered", output);
    }

    [Fact]
    public async Task Importing_ten_thousand_serials_keeps_good_rows_and_reports_bad_ones_by_line()
    {
        var lines = new List<string> { "serial" };
        lines.AddRange(Enumerable.Range(0, 10_000).Select(i => i % 2500 == 1234 ? $"Bad Serial {i}" : $"bulk-cli-{i:D5}"));
        var csv = Path.GetTempFileName();
        await File.WriteAllLinesAsync(csv, lines);
        var auth = await CredentialsAsync("cli-importer", OperatorRole.Admin);

        var (exit, output, _) = await RunAsync(["devices", "import", "--manufacturer", "demo", csv, .. auth]);

        Assert.Equal(AdminCommandLine.PartlyImported, exit);
        Assert.Contains("9996 registered", output);
        foreach (var i in new[] { 1234, 3734, 6234, 8734 })
        {
            Assert.Contains($"line {i + 2}:", output);
        }
        Assert.Equal(9996L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" LIKE 'bulk-cli-%'"));
    }

    [Fact]
    public async Task Devices_renew_says_whether_the_device_was_online()
    {
        using var online = await DeviceIdentity.EnrollAsync(server, "cli-renew-online");
        using var offline = await DeviceIdentity.EnrollAsync(server, "cli-renew-offline");
        using var session = await MqttTestClient.ConnectAsync(server, online.Certificate, online.Id);
        for (var i = 0; i < 100 && !await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = 'cli-renew-online'"); i++)
        {
            await Task.Delay(50);
        }
        var auth = await CredentialsAsync("cli-renewer", OperatorRole.Admin);

        var (onlineExit, onlineOut, _) = await RunAsync(["devices", "renew", "cli-renew-online", .. auth]);
        var (offlineExit, offlineOut, _) = await RunAsync(["devices", "renew", "cli-renew-offline", .. auth]);

        Assert.Equal(0, onlineExit);
        Assert.Contains("cli-renew-online is online; the ask was published on devices/cli-renew-online/commands/renew", onlineOut);
        Assert.Equal(0, offlineExit);
        Assert.Contains("cli-renew-offline is offline", offlineOut);
    }

    [Fact]
    public async Task Tables_keep_long_ids_whole_when_the_terminal_is_narrower_than_the_table()
    {
        var id = "cli-a-rather-long-device-identifier-0123456789";
        await server.RegisterAsync(id);
        var auth = await CredentialsAsync("cli-narrow", OperatorRole.Viewer);

        var (exit, output, _) = await AdminCli.RunAsync(120, ["devices", "list", "--state", "registered", .. auth]);

        Assert.Equal(0, exit);
        Assert.Contains(id, output);
    }

    [Fact]
    public async Task A_viewer_cannot_approve_and_gets_one_line_of_error()
    {
        var auth = await CredentialsAsync("cli-viewer2", OperatorRole.Viewer);

        var (exit, _, error) = await RunAsync(["enrollments", "approve", "whatever-01", .. auth]);

        Assert.Equal(AdminCommandLine.Failed, exit);
        Assert.StartsWith("error: 403", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Show_lists_the_certificates_of_a_device()
    {
        await server.RegisterAsync("cli-show-01");
        using var boot = server.Bootstrap("cli-show-01");
        using var est = EstClient.Create(server, boot);
        using var enrolled = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr("cli-show-01").CsrBase64);
        Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
        using var issued = await EstClient.ReadCertificateAsync(enrolled);
        var auth = await CredentialsAsync("cli-viewer3", OperatorRole.Viewer);

        var (exit, output, _) = await RunAsync(["devices", "show", "cli-show-01", .. auth]);

        Assert.Equal(0, exit);
        Assert.Contains(issued.SerialNumber.ToLowerInvariant(), output);
        Assert.Contains("active", output);
    }

    [Fact]
    public async Task Revoke_from_the_command_line_revokes_the_device()
    {
        await server.RegisterAsync("cli-revoke-01");
        var auth = await CredentialsAsync("cli-revoker", OperatorRole.Admin);

        var (exit, output, error) = await RunAsync(["devices", "revoke", "cli-revoke-01", "--reason", "cessationOfOperation", .. auth]);

        Assert.True(exit == 0, error);
        Assert.Contains("revoked", output);
        Assert.Equal("revoked", await server.Database.ScalarAsync<string>("SELECT \"State\" FROM devices WHERE \"Id\" = 'cli-revoke-01'"));
    }

    [Fact]
    public async Task Missing_credentials_are_one_line_errors()
    {
        var (exit, _, error) = await RunAsync("devices", "list", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key", "--ca", server.CaBundlePath);

        Assert.Equal(AdminCommandLine.Failed, exit);
        Assert.Contains("does not exist", error);
    }

    [Fact]
    public async Task Manufacturers_profile_and_proof_of_possession_are_set_and_listed_from_the_command_line()
    {
        var auth = await CredentialsAsync("cli-maker-admin", OperatorRole.Admin);

        var profile = await RunAsync(["manufacturers", "profile", "demo", "--lifetime", "30.00:00:00", "--window-start", "0.6", "--at-risk", "0.85", .. auth]);
        var required = await RunAsync(["manufacturers", "proof-of-possession", "demo", "required", .. auth]);
        var requiredInDb = await server.Database.ScalarAsync<bool>("SELECT \"RequireProofOfPossession\" FROM manufacturers WHERE \"Name\" = 'demo'");
        var listed = await RunAsync(["manufacturers", "list", .. auth]);
        var optional = await RunAsync(["manufacturers", "proof-of-possession", "demo", "optional", .. auth]);
        var badWindow = await RunAsync(["manufacturers", "profile", "demo", "--window-start", "0.9", "--at-risk", "0.5", .. auth]);
        var badSetting = await RunAsync(["manufacturers", "proof-of-possession", "demo", "maybe", .. auth]);

        Assert.Equal((0, ""), (profile.Exit, profile.Err));
        Assert.Contains("demo: lifetime 30.00:00:00, renewal window 0.6..0.85", profile.Out);
        Assert.Equal(0, required.Exit);
        Assert.True(requiredInDb);
        Assert.Contains("required", listed.Out);
        Assert.Contains("30.00:00:00", listed.Out);
        Assert.Equal(0, optional.Exit);
        Assert.False(await server.Database.ScalarAsync<bool>("SELECT \"RequireProofOfPossession\" FROM manufacturers WHERE \"Name\" = 'demo'"));
        Assert.Equal(AdminCommandLine.Failed, badWindow.Exit);
        Assert.StartsWith("error: 400", badWindow.Err);
        Assert.Equal(0.6, await server.Database.ScalarAsync<double>("SELECT \"RenewalWindowStart\" FROM manufacturers WHERE \"Name\" = 'demo'"));
        Assert.Equal(AdminCommandLine.BadInput, badSetting.Exit);
        Assert.Single(badSetting.Err.Trim().Split('\n'));
    }
}
