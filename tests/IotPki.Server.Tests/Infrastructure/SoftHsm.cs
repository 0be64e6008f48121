using System.Runtime.InteropServices;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>SoftHSM2 (Debian's softhsm2) as the test HSM. SoftHSM reads its configuration once per process, when the
/// library is first loaded, so the whole test process shares one token directory; each test class initializes tokens
/// of its own there, with softhsm2-util, before its server loads the library.</summary>
public static partial class SoftHsm
{
    public const string Library = "/usr/lib/softhsm/libsofthsm2.so";
    public const string SoPin = "so-pin-7391";

    private static readonly Lazy<string> Configuration = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory("iotpki-softhsm-").FullName;
        var tokens = Directory.CreateDirectory(Path.Combine(directory, "tokens")).FullName;
        var conf = Path.Combine(directory, "softhsm2.conf");
        File.WriteAllText(conf, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n");
        // The library is native code: it reads the C environment, which Environment.SetEnvironmentVariable leaves alone.
        Assert.Equal(0, SetNativeEnvironment("SOFTHSM2_CONF", conf, 1));
        return conf;
    });

    /// <summary>Initializes a token labelled <paramref name="label"/> in the first free slot.</summary>
    public static async Task InitTokenAsync(string label, string pin)
    {
        var result = await ChildProcess.RunAsync("softhsm2-util",
            ["--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", SoPin],
            environment: new Dictionary<string, string> { ["SOFTHSM2_CONF"] = Configuration.Value });
        Assert.True(result.ExitCode == 0, $"softhsm2-util: {result.Stdout}{result.Stderr}");
    }

    /// <summary>The private-key objects of a token as OpenSC's pkcs11-tool lists them (a client we did not write).</summary>
    public static Task<ChildProcess.Result> ListPrivateKeysAsync(string label, string pin) =>
        ChildProcess.RunAsync("pkcs11-tool",
            ["--module", Library, "--token-label", label, "--login", "--pin", pin, "--list-objects", "--type", "privkey"],
            environment: new Dictionary<string, string> { ["SOFTHSM2_CONF"] = Configuration.Value });

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetNativeEnvironment(string name, string value, int overwrite);
}
