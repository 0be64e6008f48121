using System.CommandLine;
using System.Globalization;
using IotPki.FirmwareSim;

var root = new RootCommand("IotPki firmware simulator: a factory and a fleet of simulated devices.");

var dirOption = new Option<DirectoryInfo>("--dir") { Required = true, Description = "Factory directory (CA, devices/, serials.csv)" };
var countOption = new Option<int>("--count") { DefaultValueFactory = _ => 100, Description = "Number of devices" };
var prefixOption = new Option<string>("--prefix") { DefaultValueFactory = _ => "sim-", Description = "Serial prefix" };
var factory = new Command("factory", "Mint bootstrap identities from a simulated manufacturer CA and write serials.csv.")
    { dirOption, countOption, prefixOption };
factory.SetAction(parse =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var ids = f.Mint(parse.GetValue(prefixOption)!, parse.GetValue(countOption), TimeSpan.FromDays(3650));
    Console.WriteLine($"Minted {ids.Count} bootstrap identities in {f.DevicesDirectory}; manufacturer CA {f.CaCertificatePath}; serials {f.SerialsPath}");
    return 0;
});
root.Add(factory);

var estOption = new Option<string>("--est") { Required = true, Description = "EST base URL, e.g. https://localhost:8443" };
var caOption = new Option<FileInfo>("--ca") { Required = true, Description = "CA bundle (PEM)" };
var concurrencyOption = new Option<int>("--concurrency") { DefaultValueFactory = _ => 8 };
var handshakeOnlyOption = new Option<bool>("--handshake-only") { Description = "GET /healthz with the bootstrap certificate instead of enrolling (TLS baseline)" };
var enrollBench = new Command("enroll-bench", "Enroll every device of the factory directory once, a new TLS connection each; print figures.")
    { dirOption, estOption, caOption, concurrencyOption, handshakeOnlyOption };
enrollBench.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var ids = File.ReadAllLines(f.SerialsPath).Skip(1).Where(l => l.Length > 0).ToList();
    var bench = new EnrollmentBenchmark(new Uri(parse.GetValue(estOption)!), parse.GetValue(caOption)!.FullName, f, parse.GetValue(concurrencyOption), parse.GetValue(handshakeOnlyOption));
    var r = await bench.RunAsync(ids, ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"enrollments={r.Devices} failures={r.Failures} seconds={r.Seconds:F2} per_second={r.PerSecond:F1} p50_ms={r.P50Ms:F2} p99_ms={r.P99Ms:F2} max_ms={r.MaxMs:F2}"));
    if (r.FirstError is not null)
    {
        Console.Error.WriteLine($"first failure: {r.FirstError}");
    }
    return r.Failures == 0 ? 0 : 1;
});
root.Add(enrollBench);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"error: {parsed.Errors[0].Message}");
    return 2;
}
return await parsed.InvokeAsync();
