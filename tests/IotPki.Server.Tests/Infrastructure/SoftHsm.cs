using System.Runtime.InteropServices;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>SoftHSM2 (Debian's softhsm2) as the test HSM. SoftHSM reads its configuration and finds its tokens once per
/// process, when the library is first loaded (a token made later is not seen), so the whole test process shares one
/// token directory, filled with a pool of tokens before any server loads the library; each test class takes its own.</summary>
public static partial class SoftHsm
{
    public const string Library = "/usr/lib/softhsm/libsofthsm2.so";
    public const string SoPin = "so-pin-7391";
    public const string Pin = "user-pin-5120";
    private const int PoolSize = 8;

    private static readonly SemaphoreSlim PoolGate = new(1, 1);
    private static readonly Queue<string> Pool = [];
    private static bool _poolMade;

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

    /// <summary>A token of the pool, initialized with <see cref="Pin"/>, that no other test class uses.</summary>
    public static async Task<string> TakeTokenAsync()
    {
        await PoolGate.WaitAsync();
        try
        {
            if (!_poolMade)
            {
                for (var i = 0; i < PoolSize; i++)
                {
                    var label = $"iotpki-test-{i}-{Guid.NewGuid().ToString("N")[..8]}";
                    var result = await ChildProcess.RunAsync("softhsm2-util",
                        ["--init-token", "--free", "--label", label, "--pin", Pin, "--so-pin", SoPin],
                        environment: new Dictionary<string, string> { ["SOFTHSM2_CONF"] = Configuration.Value });
                    Assert.True(result.ExitCode == 0, $"softhsm2-util: {result.Stdout}{result.Stderr}");
                    Pool.Enqueue(label);
                }
                _poolMade = true;
            }
            return Pool.TryDequeue(out var token) ? token : throw new InvalidOperationException($"The SoftHSM pool of {PoolSize} tokens is used up: make it larger.");
        }
        finally
        {
            PoolGate.Release();
        }
    }

    /// <summary>The private-key objects of a token as OpenSC's pkcs11-tool lists them (a client we did not write).</summary>
    public static Task<ChildProcess.Result> ListPrivateKeysAsync(string label, string pin) =>
        ChildProcess.RunAsync("pkcs11-tool",
            ["--module", Library, "--token-label", label, "--login", "--pin", pin, "--list-objects", "--type", "privkey"],
            environment: new Dictionary<string, string> { ["SOFTHSM2_CONF"] = Configuration.Value });

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int SetNativeEnvironment(string name, string value, int overwrite);
}
