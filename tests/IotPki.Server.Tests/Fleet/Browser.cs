using System.Security.Cryptography.X509Certificates;
using Microsoft.Playwright;

namespace IotPki.Server.Tests.Fleet;

/// <summary>Debian's headless Chromium driven by Playwright (which cannot download a browser here), and browser
/// contexts holding an operator's client certificate.</summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly string _directory = Directory.CreateTempSubdirectory("iotpki-browser-").FullName;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<Browser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Tests run as root in CI, where Chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
        return new Browser(playwright, browser);
    }

    /// <summary>A fresh context (cookies, storage) presenting <paramref name="certificate"/> to <paramref name="origin"/>,
    /// or no certificate at all. The server's certificate is of our private CA, which Chromium does not know.</summary>
    public async Task<IBrowserContext> ContextAsync(Uri origin, X509Certificate2? certificate, ViewportSize? viewport = null)
    {
        var options = new BrowserNewContextOptions { IgnoreHTTPSErrors = true, ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 } };
        if (certificate is not null)
        {
            var name = Convert.ToHexStringLower(certificate.GetCertHash()[..8]);
            var certPath = Path.Combine(_directory, name + ".pem");
            var keyPath = Path.Combine(_directory, name + ".key");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            options.ClientCertificates = [new ClientCertificate { Origin = origin.GetLeftPart(UriPartial.Authority), CertPath = certPath, KeyPath = keyPath }];
        }
        return await _browser.NewContextAsync(options);
    }

    /// <summary>Where a test keeps its screenshots: <c>IOTPKI_SCREENSHOTS</c> when set (to refresh docs/), else a temp folder.</summary>
    public string ScreenshotPath(string name)
    {
        var directory = Environment.GetEnvironmentVariable("IOTPKI_SCREENSHOTS") is { Length: > 0 } set ? set : Path.Combine(_directory, "screenshots");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, name + ".png");
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
