using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace IotPki.Server.Tests.Fleet;

/// <summary>The operators' pages in a real browser (Debian's headless Chromium through Playwright), with the operator's
/// client certificate in the browser context: an admin finds a device, revokes it and sees it go offline without a
/// reload; a viewer sees no revoke button and a forged POST is refused and audited; without a certificate there is no
/// page; every page passes axe's accessibility rules and fits a phone's width.</summary>
public sealed class FleetPageTests(ServerFixture server) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private string Url(string path) => new Uri(server.OperatorBase, path).ToString();

    [Fact]
    public async Task An_admin_finds_a_device_revokes_it_and_sees_it_go_offline()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "page-stolen-01");
        using var mqtt = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        var dropped = MqttTestClient.Disconnected(mqtt);
        await WaitOnlineAsync(device.Id, true);
        using var admin = await OperatorClient.IssueAsync(server, "page-admin", OperatorRole.Admin);
        await using var context = await _browser.ContextAsync(server.OperatorBase, admin);

        // One tab keeps the device list open: the device goes offline there with no reload.
        var list = await context.NewPageAsync();
        await list.GotoAsync(Url("/fleet/devices?state=active"));
        var listed = list.Locator($"[data-online-for='{device.Id}']");
        await Expect(listed).ToHaveTextAsync("online");
        await list.EvaluateAsync("() => window.notReloaded = true");

        var page = await context.NewPageAsync();
        await page.GotoAsync(Url("/fleet"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Devices", Exact = true }).ClickAsync();
        await page.GetByLabel("Device id").FillAsync(device.Id);
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/fleet/devices/{device.Id}$"));
        await Expect(page.Locator($"[data-online-for='{device.Id}']")).ToHaveTextAsync("online");
        await page.GetByLabel("Reason").SelectOptionAsync("keyCompromise");
        await page.GetByLabel("I understand this cannot be undone").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Revoked");
        await Expect(page.Locator("#device-state")).ToHaveTextAsync("revoked");
        await Expect(listed).ToHaveTextAsync("offline", new() { Timeout = 10_000 });
        Assert.True(await list.EvaluateAsync<bool>("() => window.notReloaded === true"));
        await dropped.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_events WHERE \"Action\" = 'device.revoked' AND \"DeviceId\" = '{device.Id}' AND \"Actor\" = 'operator:page-admin'"));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM certificates WHERE \"DeviceId\" = '{device.Id}' AND \"Status\" = 'valid'"));
    }

    [Fact]
    public async Task A_viewer_sees_no_revoke_button_and_a_forged_post_is_refused_and_audited()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "page-viewed-01");
        using var viewer = await OperatorClient.IssueAsync(server, "page-viewer", OperatorRole.Viewer);
        using var admin = await OperatorClient.IssueAsync(server, "page-forged-admin", OperatorRole.Admin);
        await using var viewerContext = await _browser.ContextAsync(server.OperatorBase, viewer);
        await using var adminContext = await _browser.ContextAsync(server.OperatorBase, admin);
        var page = await viewerContext.NewPageAsync();
        await page.GotoAsync(Url($"/fleet/devices/{device.Id}"));

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Device {device.Id}" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Revoke" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Ask to renew" })).ToHaveCountAsync(0);

        // A POST built elsewhere carries no anti-forgery token of this session: refused, whoever's certificate is sent.
        var form = new Dictionary<string, string> { ["reason"] = "keyCompromise", ["confirm"] = "yes" };
        var byViewer = await viewerContext.APIRequest.PostAsync(Url($"/fleet/devices/{device.Id}?handler=Revoke"), new() { Form = FormOf(viewerContext, form) });
        var byAdmin = await adminContext.APIRequest.PostAsync(Url($"/fleet/devices/{device.Id}?handler=Revoke"), new() { Form = FormOf(adminContext, form) });

        Assert.Equal(400, byViewer.Status);
        Assert.Equal(400, byAdmin.Status);
        Assert.Contains("antiforgery_token_invalid", await byAdmin.TextAsync());
        Assert.Equal("active", await server.Database.ScalarAsync<string>($"SELECT \"State\" FROM devices WHERE \"Id\" = '{device.Id}'"));
        foreach (var actor in new[] { "operator:page-viewer", "operator:page-forged-admin" })
        {
            Assert.Equal(1L, await server.Database.ScalarAsync<long>(
                $"SELECT count(*) FROM audit_events WHERE \"Action\" = 'page.refused' AND \"Actor\" = '{actor}' AND \"Detail\" = 'POST /fleet/devices/{device.Id}: antiforgery_token_invalid'"));
        }
    }

    [Fact]
    public async Task An_admin_approves_one_pending_enrollment_and_rejects_another_and_the_devices_learn_it()
    {
        using var makerCa = TestPki.NewCa("Page Pending Maker CA");
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IotPki.Server.Fleet.ManufacturerRegistration>().RegisterAsync("page-pending-maker",
                makerCa.CertificatePem, IotPki.Identity.DeviceIdField.CommonName, "test", CancellationToken.None,
                IotPki.Server.Data.Entities.UnregisteredPolicy.Pending);
        }
        using var approvedBoot = TestPki.Device("page-wait-yes").SignedBy(makerCa).Build();
        using var rejectedBoot = TestPki.Device("page-wait-no").SignedBy(makerCa).Build();
        Assert.Equal(System.Net.HttpStatusCode.Accepted, await EnrollAsync("page-wait-yes", approvedBoot));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, await EnrollAsync("page-wait-no", rejectedBoot));
        using var admin = await OperatorClient.IssueAsync(server, "page-approver", OperatorRole.Admin);
        await using var context = await _browser.ContextAsync(server.OperatorBase, admin);
        var page = await context.NewPageAsync();

        await page.GotoAsync(Url("/fleet/enrollments"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve page-wait-yes" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("page-wait-yes approved");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject page-wait-no" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("page-wait-no rejected");
        await Expect(page.GetByRole(AriaRole.Cell, new() { Name = "page-wait-yes" })).ToHaveCountAsync(0);

        Assert.Equal(System.Net.HttpStatusCode.OK, await EnrollAsync("page-wait-yes", approvedBoot));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, await EnrollAsync("page-wait-no", rejectedBoot));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'enrollment.approved' AND \"DeviceId\" = 'page-wait-yes' AND \"Actor\" = 'operator:page-approver'"));
    }

    private async Task<System.Net.HttpStatusCode> EnrollAsync(string id, System.Security.Cryptography.X509Certificates.X509Certificate2 bootstrap)
    {
        using var est = EstClient.Create(server, bootstrap);
        using var response = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr(id).CsrBase64);
        return response.StatusCode;
    }

    [Fact]
    public async Task Without_a_certificate_there_is_no_page()
    {
        await using var context = await _browser.ContextAsync(server.OperatorBase, null);
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(Url("/fleet/devices"));

        Assert.Equal(401, response!.Status);
        Assert.DoesNotContain("Devices", await page.TitleAsync());
        await Expect(page.GetByRole(AriaRole.Table)).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Every_page_passes_axe_and_fits_a_phone()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "page-phone-01");
        using var admin = await OperatorClient.IssueAsync(server, "page-a11y-admin", OperatorRole.Admin);
        await using var desktop = await _browser.ContextAsync(server.OperatorBase, admin);
        await using var phone = await _browser.ContextAsync(server.OperatorBase, admin, new ViewportSize { Width = 390, Height = 844 });
        var pages = new[]
        {
            ("overview", "/fleet"), ("devices", "/fleet/devices"), ("device", $"/fleet/devices/{device.Id}"),
            ("enrollments", "/fleet/enrollments"), ("manufacturers", "/fleet/manufacturers"), ("audit", "/fleet/audit"),
        };
        foreach (var (name, path) in pages)
        {
            var page = await desktop.NewPageAsync();
            var response = await page.GotoAsync(Url(path));
            Assert.True(response!.Ok, $"{path}: {response.Status}");
            var axe = await page.RunAxe();
            Assert.True(axe.Violations.Length == 0,
                $"{path}: " + string.Join("; ", axe.Violations.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html))}")));
            await page.ScreenshotAsync(new() { Path = _browser.ScreenshotPath(name), FullPage = true });

            var small = await phone.NewPageAsync();
            await small.GotoAsync(Url(path));
            // Wide tables scroll inside their own box; the page itself never scrolls sideways.
            Assert.True(await small.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"{path} is wider than a phone");
            if (name == "device")
            {
                await small.ScreenshotAsync(new() { Path = _browser.ScreenshotPath("device-phone"), FullPage = true });
            }
        }
    }

    private static IFormData FormOf(IBrowserContext context, Dictionary<string, string> fields)
    {
        var form = context.APIRequest.CreateFormData();
        foreach (var (key, value) in fields)
        {
            form.Set(key, value);
        }
        return form;
    }

    private async Task WaitOnlineAsync(string id, bool online)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await server.Database.ScalarAsync<bool>($"SELECT \"Online\" FROM devices WHERE \"Id\" = '{id}'") == online)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{id} never became {(online ? "online" : "offline")}");
    }
}
