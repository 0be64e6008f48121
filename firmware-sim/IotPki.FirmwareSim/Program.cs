using System.CommandLine;
using System.Globalization;
using IotPki.FirmwareSim;

var root = new RootCommand("IotPki firmware simulator: a factory and a fleet of simulated devices.");

var dirOption = new Option<DirectoryInfo>("--dir") { Required = true, Description = "Factory directory (CA, devices/, serials.csv)" };
var countOption = new Option<int>("--count") { DefaultValueFactory = _ => 100, Description = "Number of devices" };
var prefixOption = new Option<string>("--prefix") { DefaultValueFactory = _ => "sim-", Description = "Serial prefix" };
var factoryOutOption = new Option<DirectoryInfo?>("--out", "--dir") { Description = "Factory directory: manufacturer CA, devices/<serial>/, serials.csv" };
var factoryManufacturerOption = new Option<string>("--manufacturer") { DefaultValueFactory = _ => "sim", Description = "Manufacturer name (its CA's name, and the serial prefix unless --prefix)" };
var factoryPrefixOption = new Option<string?>("--prefix") { Description = "Serial prefix (default: MANUFACTURER-)" };
var factoryEstOption = new Option<string?>("--est") { Description = "EST URL written into each device's agent.json" };
var factoryBrokerOption = new Option<string?>("--broker") { Description = "Broker URL (mqtts://) written into each device's agent.json" };
var factoryBundleOption = new Option<FileInfo?>("--ca-bundle") { Description = "The service's CA bundle, copied beside the devices for their agent.json" };
var registerOption = new Option<string?>("--register") { Description = "Operator API base URL: register the manufacturer (if new) and the serials through it" };
var registerCertOption = new Option<FileInfo?>("--operator-cert") { Description = "Admin operator certificate (PEM) for --register" };
var registerKeyOption = new Option<FileInfo?>("--operator-key") { Description = "Its key (PEM)" };
var factory = new Command("factory", "A production run: N bootstrap keys and certificates from the manufacturer CA, one folder per device (boot.key 0600, boot.pem, agent.json), serials.csv for admin devices import, or registered through the operator API.")
    { factoryOutOption, countOption, factoryManufacturerOption, factoryPrefixOption, factoryEstOption, factoryBrokerOption, factoryBundleOption,
      registerOption, registerCertOption, registerKeyOption };
factory.SetAction(async (parse, ct) =>
{
    if (parse.GetValue(factoryOutOption) is not { } outDir)
    {
        Console.Error.WriteLine("iotpki-sim factory: --out DIR is required");
        return 2;
    }
    var manufacturer = parse.GetValue(factoryManufacturerOption)!;
    if (!IotPki.Identity.DeviceId.TryParse(manufacturer, out _))
    {
        Console.Error.WriteLine($"iotpki-sim factory: '{manufacturer}' is not a valid manufacturer name ([a-z0-9][a-z0-9._-]{{2,63}})");
        return 2;
    }
    var count = parse.GetValue(countOption);
    if (count is < 1 or > 10_000_000)
    {
        Console.Error.WriteLine("iotpki-sim factory: --count must be between 1 and 10,000,000");
        return 2;
    }
    Uri? Url(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var url) ? url
            : throw new FormatException($"{name} '{value}' is not an absolute URL");
    }
    Uri? est, broker, api;
    try
    {
        est = Url("--est", parse.GetValue(factoryEstOption));
        broker = Url("--broker", parse.GetValue(factoryBrokerOption));
        api = Url("--register", parse.GetValue(registerOption));
    }
    catch (FormatException e)
    {
        Console.Error.WriteLine($"iotpki-sim factory: {e.Message}");
        return 2;
    }
    AgentTemplate? agent = null;
    if (est is not null)
    {
        if (parse.GetValue(factoryBundleOption) is not { Exists: true } bundle)
        {
            Console.Error.WriteLine("iotpki-sim factory: --est needs --ca-bundle (the service's ca.pem)");
            return 2;
        }
        agent = new AgentTemplate(est, broker, bundle.FullName);
    }
    var f = new Factory(outDir.FullName);
    var watch = System.Diagnostics.Stopwatch.StartNew();
    var bar = new ProgressBar(Console.Error, count);
    IReadOnlyList<string> ids;
    try
    {
        ids = f.Mint(parse.GetValue(factoryPrefixOption) ?? manufacturer + "-", count, TimeSpan.FromDays(3650), agent, bar.Report, $"{manufacturer} Factory CA");
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
    {
        Console.Error.WriteLine($"iotpki-sim factory: {e.Message}");
        return 1;
    }
    bar.Done();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Minted {ids.Count} bootstrap identities in {watch.Elapsed.TotalSeconds:F1} s ({ids.Count / watch.Elapsed.TotalSeconds:F0}/s) in {f.DevicesDirectory}; manufacturer CA {f.CaCertificatePath}; serials {f.SerialsPath}"));
    if (api is not null)
    {
        if (parse.GetValue(registerCertOption) is not { } cert || parse.GetValue(registerKeyOption) is not { } key
            || parse.GetValue(factoryBundleOption) is not { Exists: true } bundle)
        {
            Console.Error.WriteLine("iotpki-sim factory: --register needs --operator-cert, --operator-key and --ca-bundle");
            return 2;
        }
        var anchors = bundle.FullName;
        try
        {
            var registered = await FactoryRegistration.RegisterAsync(api, System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cert.FullName, key.FullName),
                anchors, manufacturer, f, ct);
            Console.WriteLine(registered);
        }
        catch (FactoryRegistrationException e)
        {
            Console.Error.WriteLine($"iotpki-sim factory: {e.Message}");
            return 1;
        }
    }
    return 0;
});
root.Add(factory);

var estOption = new Option<string>("--est") { Required = true, Description = "EST base URL, e.g. https://localhost:8443" };
var caOption = new Option<FileInfo>("--ca") { Required = true, Description = "CA bundle (PEM)" };
var concurrencyOption = new Option<int>("--concurrency") { DefaultValueFactory = _ => 8 };
var handshakeOnlyOption = new Option<bool>("--handshake-only") { Description = "GET /healthz with the bootstrap certificate instead of enrolling (TLS baseline)" };
var reenrollOption = new Option<bool>("--reenroll") { Description = "simplereenroll with each device's operational identity (op.pem, from fleet-identities)" };
var enrollBench = new Command("enroll-bench", "Enroll every device of the factory directory once, a new TLS connection each; print figures.")
    { dirOption, estOption, caOption, concurrencyOption, handshakeOnlyOption, reenrollOption };
enrollBench.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var ids = File.ReadAllLines(f.SerialsPath).Skip(1).Where(l => l.Length > 0).ToList();
    var bench = new EnrollmentBenchmark(new Uri(parse.GetValue(estOption)!), parse.GetValue(caOption)!.FullName, f, parse.GetValue(concurrencyOption),
        parse.GetValue(handshakeOnlyOption), parse.GetValue(reenrollOption));
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


var fleetCountOption = new Option<int?>("--count") { Description = "Enroll only the first N devices of serials.csv (default: all)" };
var fleetIdentities = new Command("fleet-identities", "Enroll every device of a factory directory over EST and keep its operational certificate and key (op.pem, op.key) next to its bootstrap.")
    { dirOption, estOption, caOption, fleetCountOption, concurrencyOption };
fleetIdentities.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var ids = FleetIdentities.DeviceIds(f);
    ids = ids.Take(parse.GetValue(fleetCountOption) ?? ids.Count).ToList();
    var (enrolled, error) = await new FleetIdentities(new Uri(parse.GetValue(estOption)!), parse.GetValue(caOption)!.FullName, f, parse.GetValue(concurrencyOption)).RunAsync(ids, ct);
    Console.WriteLine($"enrolled={enrolled} of={ids.Count}");
    if (error is not null)
    {
        Console.Error.WriteLine($"first failure: {error}");
    }
    return enrolled == ids.Count ? 0 : 1;
});
root.Add(fleetIdentities);

var hostOption = new Option<string>("--host") { DefaultValueFactory = _ => "localhost", Description = "Broker host name (must match its certificate)" };
var portOption = new Option<int>("--port") { Required = true, Description = "Broker MQTT over TLS port" };
var skipOption = new Option<int>("--skip") { DefaultValueFactory = _ => 0, Description = "Start at this device of serials.csv (to keep benchmarks on separate devices)" };
var cpuPidOption = new Option<int?>("--cpu-pid") { Description = "Broker process id: report its CPU time over the measured window (from /proc)" };
var holdOption = new Option<bool>("--hold") { Description = "Keep every connection open and idle, print HOLDING, and wait for SIGTERM or SIGINT" };
var connectCountOption = new Option<int>("--count") { DefaultValueFactory = _ => 1000, Description = "Number of connects (one device each)" };
var connectBench = new Command("mqtt-connect-bench", "N mTLS MQTT connects, a new TLS connection each, client id = device id; connects/second, p50/p99 latency, broker CPU.")
    { dirOption, hostOption, portOption, caOption, connectCountOption, concurrencyOption, skipOption, holdOption, cpuPidOption };
connectBench.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var ids = FleetIdentities.DeviceIds(f).Skip(parse.GetValue(skipOption)).Take(parse.GetValue(connectCountOption)).ToList();
    var endpoint = new MqttEndpoint(parse.GetValue(hostOption)!, parse.GetValue(portOption), parse.GetValue(caOption)!.FullName);
    var cpu = new ProcessCpu(parse.GetValue(cpuPidOption));
    var bench = new MqttConnectBenchmark(endpoint, f, parse.GetValue(concurrencyOption));
    var hold = parse.GetValue(holdOption);
    var cpu0 = cpu.Seconds();
    var r = await bench.RunAsync(ids, hold, ct);
    var cpu1 = cpu.Seconds();
    var cpuText = cpu.Enabled
        ? string.Create(CultureInfo.InvariantCulture, $" broker_cpu_s={cpu1 - cpu0:F2} broker_cpu_s_per_1000={(cpu1 - cpu0) * 1000 / Math.Max(1, r.Connects - r.Failures):F2}")
        : "";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"connects={r.Connects} failures={r.Failures} seconds={r.Seconds:F2} per_second={r.PerSecond:F1} p50_ms={r.P50Ms:F2} p99_ms={r.P99Ms:F2} max_ms={r.MaxMs:F2}{cpuText}"));
    if (r.FirstError is not null)
    {
        Console.Error.WriteLine($"first failure: {r.FirstError}");
    }
    if (hold)
    {
        Console.WriteLine($"HOLDING {bench.Held.Count}");
        Console.Out.Flush();
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
            // Stopped by signal: the benchmark's resources are released below.
        }
        bench.Release();
    }
    return r.Failures == 0 ? 0 : 1;
});
root.Add(connectBench);

var servicesOption = new Option<DirectoryInfo>("--services") { Required = true, Description = "Directory of service identities NAME.pem + NAME.key (client id = NAME)" };
var qosOption = new Option<int>("--qos") { DefaultValueFactory = _ => 0, Description = "0 or 1" };
var publishersOption = new Option<int>("--publishers") { DefaultValueFactory = _ => 10 };
var subscribersOption = new Option<int>("--subscribers") { DefaultValueFactory = _ => 10 };
var payloadOption = new Option<int>("--payload") { DefaultValueFactory = _ => 256, Description = "Payload bytes" };
var secondsOption = new Option<int>("--seconds") { DefaultValueFactory = _ => 10, Description = "Measured window" };
var warmupOption = new Option<int>("--warmup") { DefaultValueFactory = _ => 2, Description = "Seconds of publishing before the window" };
var inflightOption = new Option<int>("--inflight") { DefaultValueFactory = _ => 8, Description = "QoS 1: unacknowledged publishes per publisher" };
var subscriberBufferOption = new Option<int>("--subscriber-socket-buffer") { DefaultValueFactory = _ => 0,
    Description = "Subscribers' TCP receive and send buffer in bytes (0: MQTTnet's default, 8 KiB)" };
var throughputBench = new Command("mqtt-throughput-bench", "Publishers (devices, devices/<id>/telemetry) and subscribers (services, devices/+/telemetry): messages/second published and received.")
    { dirOption, hostOption, portOption, caOption, servicesOption, qosOption, publishersOption, subscribersOption, payloadOption, secondsOption, warmupOption, inflightOption, skipOption, cpuPidOption, subscriberBufferOption };
throughputBench.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var publishers = FleetIdentities.DeviceIds(f).Skip(parse.GetValue(skipOption)).Take(parse.GetValue(publishersOption))
        .Select(id => (id, MqttEndpoint.LoadIdentity(FleetIdentities.CertPath(f, id), FleetIdentities.KeyPath(f, id)))).ToList();
    var services = parse.GetValue(servicesOption)!.FullName;
    var subscribers = Directory.GetFiles(services, "*.pem").Order(StringComparer.Ordinal)
        .Where(p => File.Exists(Path.ChangeExtension(p, ".key")))
        .Take(parse.GetValue(subscribersOption))
        .Select(p => (Path.GetFileNameWithoutExtension(p), MqttEndpoint.LoadIdentity(p, Path.ChangeExtension(p, ".key")))).ToList();
    if (subscribers.Count < parse.GetValue(subscribersOption))
    {
        Console.Error.WriteLine($"error: only {subscribers.Count} service identities in {services}");
        return 2;
    }
    var qos = parse.GetValue(qosOption) == 1 ? MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce : MQTTnet.Protocol.MqttQualityOfServiceLevel.AtMostOnce;
    var endpoint = new MqttEndpoint(parse.GetValue(hostOption)!, parse.GetValue(portOption), parse.GetValue(caOption)!.FullName);
    var cpu = new ProcessCpu(parse.GetValue(cpuPidOption));
    var bench = new MqttThroughputBenchmark(endpoint, qos, parse.GetValue(payloadOption), parse.GetValue(inflightOption), cpu,
        parse.GetValue(subscriberBufferOption) is > 0 and var buffer ? buffer : null);
    var r = await bench.RunAsync(publishers, subscribers, TimeSpan.FromSeconds(parse.GetValue(warmupOption)), TimeSpan.FromSeconds(parse.GetValue(secondsOption)), ct);
    var cpuText = cpu.Enabled
        ? string.Create(CultureInfo.InvariantCulture, $" broker_cpu_s={r.BrokerCpuSeconds:F2} broker_cpu_us_per_delivery={r.BrokerCpuSeconds * 1e6 / Math.Max(1, r.Received):F1}")
        : "";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"qos={(int)qos} published_per_second={r.PublishedPerSecond:F0} received_per_second={r.ReceivedPerSecond:F0} delivered_fraction={r.DeliveredFraction:F3} started_drained={(r.StartedDrained ? 1 : 0)} seconds={r.Seconds:F1}{cpuText}"));
    return 0;
});
root.Add(throughputBench);

var apiOption = new Option<string>("--api") { Required = true, Description = "Operator API base URL, e.g. https://localhost:8444" };
var operatorCertOption = new Option<FileInfo>("--operator-cert") { Required = true, Description = "Admin operator certificate (PEM)" };
var operatorKeyOption = new Option<FileInfo>("--operator-key") { Required = true, Description = "Its key (PEM)" };
var revokeCountOption = new Option<int>("--count") { DefaultValueFactory = _ => 100, Description = "Devices to connect and revoke" };
var revocationBench = new Command("revocation-latency-bench", "Connect N devices, revoke each through the operator API; time from the request to the session closed, p50/p99.")
    { dirOption, hostOption, portOption, caOption, apiOption, operatorCertOption, operatorKeyOption, revokeCountOption, skipOption };
revocationBench.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(dirOption)!.FullName);
    var ids = FleetIdentities.DeviceIds(f).Skip(parse.GetValue(skipOption)).Take(parse.GetValue(revokeCountOption)).ToList();
    var endpoint = new MqttEndpoint(parse.GetValue(hostOption)!, parse.GetValue(portOption), parse.GetValue(caOption)!.FullName);
    using var operatorCert = MqttEndpoint.LoadIdentity(parse.GetValue(operatorCertOption)!.FullName, parse.GetValue(operatorKeyOption)!.FullName);
    var bench = new RevocationLatencyBenchmark(endpoint, new Uri(parse.GetValue(apiOption)!), operatorCert, parse.GetValue(caOption)!.FullName, f);
    var r = await bench.RunAsync(ids, ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"revoked={r.Devices} closed={r.Closed} p50_ms={r.P50Ms:F1} p99_ms={r.P99Ms:F1} max_ms={r.MaxMs:F1} api_p50_ms={r.ApiP50Ms:F1} api_p99_ms={r.ApiP99Ms:F1}"));
    if (r.FirstError is not null)
    {
        Console.Error.WriteLine($"first failure: {r.FirstError}");
    }
    return r.Closed == r.Devices ? 0 : 1;
});
root.Add(revocationBench);

var devicesDirOption = new Option<DirectoryInfo>("--devices") { Required = true, Description = "Factory directory (from iotpki-sim factory)" };
var fleetRunCountOption = new Option<int?>("--count") { Description = "Run the first N devices (default: all)" };
var rateOption = new Option<double>("--rate") { DefaultValueFactory = _ => 50, Description = "Devices started per second (0: all at once)" };
var durationOption = new Option<TimeSpan>("--duration") { DefaultValueFactory = _ => TimeSpan.FromMinutes(5), Description = "How long the fleet runs, e.g. 00:30:00" };
var settleOption = new Option<TimeSpan>("--settle") { DefaultValueFactory = _ => TimeSpan.FromMinutes(1),
    Description = "After --duration, how long devices in a reconnect back-off get to be online again before they are counted" };
var serversOption = new Option<string[]>("--server") { Required = true, AllowMultipleArgumentsPerToken = true,
    Description = "A server instance as EST-URL,BROKER-URL (e.g. https://localhost:8443,mqtts://localhost:8883); repeat for several" };
var renewalFractionOption = new Option<double>("--renewal-fraction") { DefaultValueFactory = _ => 2.0 / 3, Description = "When each agent rotates on its own timer (fraction of the lifetime)" };
var jsonOption = new Option<FileInfo?>("--json") { Description = "Also write the summary here as JSON" };
var stateRootOption = new Option<DirectoryInfo?>("--state-root") { Description = "Where the devices' state directories live (default: beside each device's bootstrap; /dev/shm keeps thousands of devices' fsyncs off the disk)" };
var powerLossOption = new Option<double>("--power-loss") { Description = "Fault: fraction of rotations during which the device loses power at a random step, then reboots" };
var networkDropOption = new Option<double>("--network-drop") { Description = "Fault: fraction of live broker connections cut at once, every --storm-interval" };
var stormIntervalOption = new Option<TimeSpan>("--storm-interval") { DefaultValueFactory = _ => TimeSpan.FromSeconds(60), Description = "Time between network drops" };
var clockSkewOption = new Option<double>("--clock-skew") { Description = "Fault: fraction of devices whose clock is off by up to ±10 minutes" };
var clonesOption = new Option<double>("--clones") { Description = "Fault: fraction of devices whose bootstrap identity is copied into a second device" };
var stolenOption = new Option<double>("--stolen") { Description = "Fault: fraction of devices stolen and revoked by an operator mid-run (needs --api)" };
var faultApiOption = new Option<string?>("--api") { Description = "Operator API base URL (revokes stolen devices, reads the audit of clones)" };
var faultCertOption = new Option<FileInfo?>("--operator-cert") { Description = "Admin operator certificate (PEM)" };
var faultKeyOption = new Option<FileInfo?>("--operator-key") { Description = "Its key (PEM)" };
var telemetryOption = new Option<TimeSpan?>("--telemetry-interval") { Description = "How often each connected device publishes a reading (default: none)" };
var killServerOption = new Option<int?>("--kill-server") { Description = "Kill this server instance (0-based, in --server order) a third into the run, then restart it" };
var killCommandOption = new Option<string?>("--kill-command") { Description = "Shell command that kills that instance (e.g. kill -9 PID)" };
var restartCommandOption = new Option<string?>("--restart-command") { Description = "Shell command that starts it again on the same addresses and returns once it is ready" };
var seedOption = new Option<int>("--seed") { DefaultValueFactory = _ => 1, Description = "Which devices each fault hits" };
var shardOption = new Option<string>("--shard") { Description = "K/N: run only every N-th device from the K-th (0-based), so that N processes share one fleet (each has its own descriptor limit)" };
var tallyOption = new Option<FileInfo>("--tally") { Description = "Write the run's counts and raw latency samples here, for fleet-merge" };
var fleetRun = new Command("fleet", "Run N devices on the real agent library (enroll, connect, rotate on timer and on the server's ask), spread over server instances; progress, then a summary.")
    { devicesDirOption, fleetRunCountOption, shardOption, tallyOption, rateOption, durationOption, settleOption, serversOption, caOption, renewalFractionOption, jsonOption, stateRootOption,
      powerLossOption, networkDropOption, stormIntervalOption, clockSkewOption, clonesOption, stolenOption, faultApiOption, faultCertOption, faultKeyOption, seedOption, telemetryOption,
      killServerOption, killCommandOption, restartCommandOption };
fleetRun.SetAction(async (parse, ct) =>
{
    var f = new Factory(parse.GetValue(devicesDirOption)!.FullName);
    var ids = File.ReadAllLines(f.SerialsPath).Skip(1).Where(l => l.Length > 0).ToList();
    ids = ids.Take(parse.GetValue(fleetRunCountOption) ?? ids.Count).ToList();
    if (parse.GetValue(shardOption) is { } shard)
    {
        var kn = shard.Split('/');
        if (kn.Length != 2 || !int.TryParse(kn[0], CultureInfo.InvariantCulture, out var k) || !int.TryParse(kn[1], CultureInfo.InvariantCulture, out var n)
            || n < 1 || k < 0 || k >= n)
        {
            Console.Error.WriteLine("error: --shard is K/N with 0 <= K < N");
            return 2;
        }
        ids = ids.Where((_, i) => i % n == k).ToList();
    }
    // Thousands of agents wait on timers and sockets, not on threads. Past a few workers per core, a thread the pool
    // injects only joins the convoy on the runtime's timer-queue lock: a 10,000-device run stalled that way, its
    // simulator processes at ~90 threads each and its telemetry stopped.
    ThreadPool.GetMaxThreads(out _, out var ioThreads);
    ThreadPool.SetMaxThreads(Environment.ProcessorCount * 8, ioThreads);
    var servers = new List<(Uri, Uri)>();
    foreach (var server in parse.GetValue(serversOption)!)
    {
        var parts = server.Split(',');
        if (parts.Length != 2 || !Uri.TryCreate(parts[0], UriKind.Absolute, out var est) || !Uri.TryCreate(parts[1], UriKind.Absolute, out var broker))
        {
            Console.Error.WriteLine($"error: --server '{server}' is not EST-URL,BROKER-URL");
            return 2;
        }
        servers.Add((est, broker));
    }
    OperatorApi? api = null;
    if (parse.GetValue(faultApiOption) is { } apiUrl)
    {
        if (!Uri.TryCreate(apiUrl, UriKind.Absolute, out var apiBase) || parse.GetValue(faultCertOption) is not { } cert || parse.GetValue(faultKeyOption) is not { } key)
        {
            Console.Error.WriteLine("error: --api needs an absolute URL, --operator-cert and --operator-key");
            return 2;
        }
        api = new OperatorApi(apiBase, System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cert.FullName, key.FullName));
    }
    var rates = new[] { parse.GetValue(powerLossOption), parse.GetValue(networkDropOption), parse.GetValue(clockSkewOption), parse.GetValue(clonesOption), parse.GetValue(stolenOption) };
    if (rates.Any(r => r is < 0 or > 1))
    {
        Console.Error.WriteLine("error: a fault rate is a fraction between 0 and 1");
        return 2;
    }
    if (parse.GetValue(stolenOption) > 0 && api is null)
    {
        Console.Error.WriteLine("error: --stolen needs --api, --operator-cert and --operator-key (an operator revokes the stolen devices)");
        return 2;
    }
    ServerKill? kill = null;
    if (parse.GetValue(killServerOption) is { } victim)
    {
        if (victim < 0 || victim >= servers.Count || parse.GetValue(killCommandOption) is not { } killCommand
            || parse.GetValue(restartCommandOption) is not { } restartCommand)
        {
            Console.Error.WriteLine("error: --kill-server needs an index among the --server instances, --kill-command and --restart-command");
            return 2;
        }
        kill = new ServerKill(victim, t => ShellCommand.RunAsync(killCommand, t), t => ShellCommand.RunAsync(restartCommand, t));
    }
    var faults = new FleetFaults
    {
        PowerLoss = rates[0], NetworkDrop = rates[1], StormInterval = parse.GetValue(stormIntervalOption), ClockSkew = rates[2], Clones = rates[3],
        Stolen = rates[4], Api = api, Seed = parse.GetValue(seedOption), Kill = kill,
    };
    var run = new FleetRun(f, servers, parse.GetValue(caOption)!.FullName, parse.GetValue(rateOption), parse.GetValue(renewalFractionOption),
        faults, parse.GetValue(stateRootOption)?.FullName, parse.GetValue(telemetryOption));
    var duration = parse.GetValue(durationOption);
    await run.RunAsync(ids, duration, Console.Error, ct, parse.GetValue(settleOption));
    var tally = run.Tally();
    var (line, json) = tally.Render(duration);
    Console.WriteLine(line);
    if (parse.GetValue(jsonOption) is { } file)
    {
        await File.WriteAllTextAsync(file.FullName, json, ct);
    }
    if (parse.GetValue(tallyOption) is { } tallyFile)
    {
        await File.WriteAllTextAsync(tallyFile.FullName, tally.ToJson(), ct);
    }
    return 0;
});
root.Add(fleetRun);

var tallyFilesArgument = new Argument<FileInfo[]>("tallies") { Arity = ArgumentArity.OneOrMore, Description = "The --tally files of the shards" };
var mergeDurationOption = new Option<TimeSpan>("--duration") { DefaultValueFactory = _ => TimeSpan.Zero, Description = "The run's duration, for the JSON report" };
var fleetMerge = new Command("fleet-merge", "One summary of a fleet run as shards: counts summed, percentiles over every shard's samples.")
    { tallyFilesArgument, mergeDurationOption, jsonOption };
fleetMerge.SetAction(async (parse, ct) =>
{
    var tallies = new List<FleetTally>();
    foreach (var file in parse.GetValue(tallyFilesArgument)!)
    {
        if (!file.Exists)
        {
            Console.Error.WriteLine($"error: {file.FullName} does not exist");
            return 2;
        }
        tallies.Add(FleetTally.FromJson(await File.ReadAllTextAsync(file.FullName, ct)));
    }
    var (line, json) = FleetTally.Merge(tallies).Render(parse.GetValue(mergeDurationOption));
    Console.WriteLine(line);
    if (parse.GetValue(jsonOption) is { } output)
    {
        await File.WriteAllTextAsync(output.FullName, json, ct);
    }
    return 0;
});
root.Add(fleetMerge);

var ocspUrlOption = new Option<string>("--url") { Required = true, Description = "The OCSP responder (http://host:port/ocsp)" };
var ocspCertOption = new Option<FileInfo>("--certificate") { Required = true, Description = "A certificate the responder knows (PEM); its issuer follows it in the file" };
var ocspSecondsOption = new Option<int>("--seconds") { DefaultValueFactory = _ => 10, Description = "Seconds per phase" };
var ocspBench = new Command("ocsp-bench",
    "OCSP POSTs for one certificate: with a nonce and without on kept-alive connections, with a nonce on new connections; the control is the same POST to a path that answers 404 on the same port. Answers/second and server CPU per answer.")
    { ocspUrlOption, ocspCertOption, concurrencyOption, ocspSecondsOption, cpuPidOption };
ocspBench.SetAction(async (parse, ct) =>
{
    var pems = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
    pems.ImportFromPemFile(parse.GetValue(ocspCertOption)!.FullName);
    if (pems.Count < 2)
    {
        Console.Error.WriteLine("error: --certificate must hold the certificate and then its issuer");
        return 2;
    }
    if (!Uri.TryCreate(parse.GetValue(ocspUrlOption), UriKind.Absolute, out var url))
    {
        Console.Error.WriteLine("error: --url must be an absolute URL");
        return 2;
    }
    var bench = new OcspBenchmark(url, pems[1], pems[0].GetSerialNumber().Reverse().ToArray(), parse.GetValue(concurrencyOption),
        new ProcessCpu(parse.GetValue(cpuPidOption)));
    var duration = TimeSpan.FromSeconds(parse.GetValue(ocspSecondsOption));
    var control = new Uri(url, "/no-such-path");
    // Warm-up: JIT, connection pools, the responder's first use.
    await bench.RunAsync(url, nonce: true, newConnections: false, TimeSpan.FromSeconds(2), ct);
    foreach (var (name, target, nonce, fresh) in new[]
             {
                 ("control_404", control, true, false), ("nonce", url, true, false), ("no_nonce", url, false, false),
                 ("nonce_new_connections", url, true, true), ("control_404_new_connections", control, true, true),
             })
    {
        var r = await bench.RunAsync(target, nonce, fresh, duration, ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"phase={name} answers={r.Answers} failures={r.Failures} per_second={r.PerSecond:F0} server_cpu_ms_per_answer={r.CpuMsPerAnswer:F3}"));
    }
    return 0;
});
root.Add(ocspBench);

var dbOption = new Option<string>("--db") { Required = true, Description = "PostgreSQL connection string of an empty database" };
var planDevicesOption = new Option<int>("--devices") { DefaultValueFactory = _ => 1_000_000 };
var hoursOption = new Option<double>("--hours") { DefaultValueFactory = _ => 24, Description = "Simulated hours of planner passes" };
var naiveOption = new Option<int?>("--naive-jobs") { Description = "Certificates scheduled by the naive design (default: all)" };
var renewalPlanBench = new Command("renewal-plan-bench",
    "Seed N devices with certificates spread over 30 days, run the server's renewal planner for a simulated day, then the naive design (a Hangfire job per certificate) on the same data.")
    { dbOption, planDevicesOption, hoursOption, naiveOption };
renewalPlanBench.SetAction(async (parse, ct) =>
{
    var connection = parse.GetValue(dbOption)!;
    var devices = parse.GetValue(planDevicesOption);
    var bench = new RenewalPlanBenchmark(connection, devices, TimeSpan.FromDays(30), TimeSpan.FromDays(30));
    var clock = new BenchClock(DateTimeOffset.UtcNow);
    await using var host = RenewalPlanBenchmark.Host(connection, clock);
    var seed = System.Diagnostics.Stopwatch.StartNew();
    await bench.SeedAsync(host.Services, clock.GetUtcNow(), ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded devices={devices} seed_seconds={seed.Elapsed.TotalSeconds:F1}"));
    var p = await bench.RunPlannerAsync(host.Services, clock, TimeSpan.FromHours(parse.GetValue(hoursOption)), TimeSpan.FromMinutes(1), ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"planner passes={p.Passes} asked={p.Asked} renewed={p.Renewed} at_risk={p.AtRisk} expired={p.Expired} batch_jobs={p.BatchJobs} " +
        $"pass_p50_ms={p.PassP50Ms:F1} pass_p99_ms={p.PassP99Ms:F1} pass_max_ms={p.PassMaxMs:F1} batch_mean_ms={p.BatchMeanMs:F1} " +
        $"rows_read={p.RowsRead} rows_read_per_ask={(p.Asked == 0 ? 0 : (double)p.RowsRead / p.Asked):F2} hangfire_jobs={p.HangfireJobs} hangfire_bytes={p.HangfireBytes} audit_rows={p.AuditRows} " +
        $"backlog_asks={p.BacklogAsks} backlog_rows_read_per_ask={(p.BacklogAsks == 0 ? 0 : (double)p.BacklogRowsRead / p.BacklogAsks):F2} " +
        $"steady_asks={p.Asked - p.BacklogAsks} steady_rows_read_per_ask={(p.Asked == p.BacklogAsks ? 0 : (double)(p.RowsRead - p.BacklogRowsRead) / (p.Asked - p.BacklogAsks)):F2} " +
        $"steady_pass_p50_ms={p.SteadyPassP50Ms:F1} steady_pass_p99_ms={p.SteadyPassP99Ms:F1}"));
    var n = await bench.RunNaiveAsync(parse.GetValue(naiveOption) ?? devices, ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"naive naive_jobs={n.Jobs} naive_seconds={n.Seconds:F1} naive_per_second={n.Jobs / n.Seconds:F0} naive_hangfire_bytes={n.HangfireBytes} naive_rows_per_job={n.RowsPerJob}"));
    return 0;
});
root.Add(renewalPlanBench);

var pkcs11LibraryOption = new Option<string>("--pkcs11-library") { DefaultValueFactory = _ => "/usr/lib/softhsm/libsofthsm2.so" };
var tokenOption = new Option<string>("--token") { Required = true, Description = "Label of an initialized token (a key is generated in it and destroyed after)" };
var pinFileOption = new Option<FileInfo>("--pin-file") { Required = true, Description = "File holding the token's user PIN" };
var signSecondsOption = new Option<double>("--seconds") { DefaultValueFactory = _ => 5 };
var signBench = new Command("sign-bench",
    "ECDSA P-256 signatures per second with 1 and 2 threads: an in-memory key (the database and file key stores) and a key inside a PKCS#11 token.")
    { pkcs11LibraryOption, tokenOption, pinFileOption, signSecondsOption };
signBench.SetAction(parse =>
{
    var pinFile = parse.GetValue(pinFileOption)!;
    if (!pinFile.Exists)
    {
        Console.Error.WriteLine($"error: {pinFile.FullName} does not exist");
        return 2;
    }
    using var token = new IotPki.Pki.Keys.Pkcs11Token(parse.GetValue(pkcs11LibraryOption)!, parse.GetValue(tokenOption)!,
        File.ReadAllText(pinFile.FullName).Trim());
    var store = new IotPki.Pki.Keys.Pkcs11KeyStore(token);
    var inToken = store.Generate($"sign-bench-{Guid.NewGuid():N}");
    using var inMemory = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
    var duration = TimeSpan.FromSeconds(parse.GetValue(signSecondsOption));
    try
    {
        SigningBenchmark.Run(inMemory, 1, TimeSpan.FromSeconds(1));
        SigningBenchmark.Run(inToken.Key, 1, TimeSpan.FromSeconds(1));
        foreach (var threads in new[] { 1, 2 })
        {
            foreach (var (name, key) in new[] { ("memory", (System.Security.Cryptography.ECDsa)inMemory), ("pkcs11", inToken.Key) })
            {
                var r = SigningBenchmark.Run(key, threads, duration);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"key={name} threads={threads} signatures={r.Signatures} per_second={r.PerSecond:F0}"));
            }
        }
    }
    finally
    {
        store.Destroy(inToken.Reference);
    }
    return 0;
});
root.Add(signBench);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"error: {parsed.Errors[0].Message}");
    return 2;
}
return await parsed.InvokeAsync();
