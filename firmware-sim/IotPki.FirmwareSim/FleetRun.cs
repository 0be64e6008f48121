using System.Globalization;
using System.Text.Json;
using IotPki.Agent;
using IotPki.Identity;

namespace IotPki.FirmwareSim;

/// <summary>N devices of a factory directory, each running the device-agent library (not a copy of it) with its own
/// state directory: enroll, connect, hold the session, rotate on their timer and on the server's ask; spread over one
/// or more server instances, with faults injected at the rates of <see cref="FleetFaults"/>. A live progress line, then
/// a summary (also as JSON) that counts each fault injected and each outcome the system must show for it.</summary>
public sealed class FleetRun(Factory factory, IReadOnlyList<(Uri Est, Uri Broker)> servers, string caBundlePath, double startsPerSecond,
    double renewalFraction, FleetFaults? faults = null, string? stateRoot = null, TimeSpan? telemetryInterval = null)
{
    private readonly FleetFaults _faults = faults ?? new FleetFaults();
    private readonly List<SimulatedDevice> _devices = [];
    private readonly List<Task> _sideTasks = [];
    // Seconds from the run's start to each device's first broker session: the largest is the time to all connected.
    private readonly System.Collections.Concurrent.ConcurrentBag<double> _firstConnectAtMs = [];
    private List<BrokerProxy> _proxies = [];
    private DateTime _quietFrom = DateTime.MaxValue;

    /// <summary>No new power cut or network drop in the run's last fifth (at most two minutes): each fault injected has
    /// time to show its outcome before the summary.</summary>
    private bool Injecting() => DateTime.UtcNow < _quietFrom;

    public FleetEvents Events { get; } = new();
    public FaultLedger Faults { get; } = new();

    private Task _killStep = Task.CompletedTask;

    /// <summary>Runs the fleet for <paramref name="duration"/>, then gives the devices that should be online up to
    /// <paramref name="settle"/> more to be so (one in a reconnect back-off is not locked out) before counting them.</summary>
    public async Task RunAsync(IReadOnlyList<string> deviceIds, TimeSpan duration, TextWriter progress, CancellationToken ct, TimeSpan settle = default)
    {
        // Not linked to ct: stopped from outside, the run first counts who is online, then stops its agents.
        using var stop = new CancellationTokenSource();
        using var killStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, ct);
        // Devices reach a broker through a relay the injector can cut, when network drops are on.
        _proxies = _faults.NetworkDrop > 0 ? servers.Select(s => new BrokerProxy(s.Broker)).ToList() : [];
        var agents = new List<Task>(deviceIds.Count);
        var started = DateTime.UtcNow;
        _quietFrom = started + duration - TimeSpan.FromTicks(Math.Min(duration.Ticks / 5, TimeSpan.FromMinutes(2).Ticks));
        using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(5));
        var report = Task.Run(async () =>
        {
            try
            {
                while (await ticker.WaitForNextTickAsync(stop.Token))
                {
                    await progress.WriteLineAsync(Line(DateTime.UtcNow - started, agents.Count));
                }
            }
            catch (OperationCanceledException)
            {
                // The run's end; the final line is written below.
            }
        }, CancellationToken.None);
        if (_proxies.Count > 0)
        {
            _sideTasks.Add(StormsAsync(stop.Token));
        }
        if (_faults.Kill is { } kill)
        {
            // Stopped from outside, the run does not wait for a kill step in progress.
            _killStep = KillServerAsync(kill, started + duration * 0.35, killStop.Token);
        }
        // At the end, who is online is counted before the agents are stopped (stopping closes their sessions).
        var end = EndAsync(duration, settle, progress, stop, ct);
        using var operatorApi = _faults.Api is { } api ? OperatorHttp(api) : null;
        for (var i = 0; i < deviceIds.Count && !stop.IsCancellationRequested; i++)
        {
            var device = new SimulatedDevice(deviceIds[i], _faults, Faults, Injecting);
            lock (_devices)
            {
                _devices.Add(device);
            }
            _ = device.FirstConnect.ContinueWith(_ => _firstConnectAtMs.Add((DateTime.UtcNow - started).TotalMilliseconds), TaskScheduler.Default);
            var server = i % servers.Count;
            device.Broker = BrokerAddress(server).ToString();
            agents.Add(RunDeviceAsync(device, server, stop.Token));
            if (device.Cloned)
            {
                _sideTasks.Add(RunCloneAsync(device, server, operatorApi, stop.Token));
            }
            if (device.Stolen)
            {
                _sideTasks.Add(StealAsync(device, duration, started, operatorApi!, stop.Token));
            }
            if (startsPerSecond > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1 / startsPerSecond), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // The run ended while devices were still starting; the loop condition stops here.
                }
            }
        }
        await end;
        await Task.WhenAll(agents);
        await Task.WhenAll(_sideTasks);
        await report;
        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }
        await progress.WriteLineAsync(Line(DateTime.UtcNow - started, agents.Count));
    }

    private async Task EndAsync(TimeSpan duration, TimeSpan settle, TextWriter progress, CancellationTokenSource stop, CancellationToken ct)
    {
        try
        {
            await Task.Delay(duration, ct);
        }
        catch (OperationCanceledException)
        {
            // Stopped from outside: count what stands now.
        }
        // A kill step still waiting for its devices is bounded by its own deadlines: its outcome is part of the run.
        await _killStep;
        // Nobody locked out for good: every device that should be online is, at the end or within the settle time.
        var settleStarted = DateTime.UtcNow;
        while (!ct.IsCancellationRequested && DateTime.UtcNow - settleStarted < settle && Expected().Any(d => !d.Online))
        {
            await Task.Delay(200, CancellationToken.None);
        }
        var expected = Expected();
        var online = expected.Count(d => d.Online);
        Faults.Count("online_at_end", online);
        Faults.Count("expected_online", expected.Count);
        if (settle > TimeSpan.Zero)
        {
            await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"settled: {online} of {expected.Count} online {(DateTime.UtcNow - settleStarted).TotalSeconds:F1} s after the run's end"));
        }
        await stop.CancelAsync();
    }

    private List<SimulatedDevice> Expected() => Devices().Where(d => !d.Stolen && !d.Stopped).ToList();

    /// <summary>The devices started so far; the start loop may still be adding to them.</summary>
    private SimulatedDevice[] Devices()
    {
        lock (_devices)
        {
            return [.. _devices];
        }
    }

    /// <summary>How many devices hold a broker session now.</summary>
    public int OnlineNow() => Devices().Count(d => d.Online);

    private Uri BrokerAddress(int server) => _proxies.Count > 0 ? _proxies[server].Address : servers[server].Broker;

    /// <summary>Server <paramref name="server"/> first, the others after it in turn.</summary>
    private IEnumerable<int> Others(int server) => Enumerable.Range(1, servers.Count - 1).Select(k => (server + k) % servers.Count);

    private AgentOptions Options(string stateDirectory, int server, string bootstrapDirectory) => new()
    {
        EstUrl = servers[server].Est,
        EstFallbackUrls = [.. Others(server).Select(k => servers[k].Est)],
        BrokerUrl = BrokerAddress(server),
        BrokerFallbackUrls = [.. Others(server).Select(BrokerAddress)],
        TrustBundlePath = caBundlePath,
        BootstrapCertificatePath = Path.Combine(bootstrapDirectory, "boot.pem"),
        BootstrapKeyPath = Path.Combine(bootstrapDirectory, "boot.key"),
        StateDirectory = stateDirectory,
        RenewalFraction = renewalFraction,
        TelemetryInterval = telemetryInterval,
    };

    private string StateDirectory(string id, string name) => Path.Combine(stateRoot ?? factory.DevicesDirectory, id, name);

    private async Task RunDeviceAsync(SimulatedDevice device, int server, CancellationToken ct)
    {
        var options = Options(StateDirectory(device.Id, "state"), server, Path.Combine(factory.DevicesDirectory, device.Id));
        var clock = device.Clock();
        if (device.Skewed)
        {
            Faults.Count("clock_skew.injected");
        }
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await new DeviceAgent(options, Events.ForDevice(device.Observe), clock, checkpoint: device.Checkpoint).RunAsync(ct);
                return;
            }
            catch (PowerCutException)
            {
                // Power comes back after a moment: the device boots with whatever its flash holds.
                await Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The run's end stops every agent; that is not an error.
                return;
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is not AgentStoppedException)
            {
                // The run's end cancels whatever was in flight (a connect, an EST request): not the agent stopping.
                return;
            }
            catch (AgentStoppedException) when (device.Stolen)
            {
                // A revoked device's agent stops for good: the expected end of a stolen device.
                Faults.Count("stolen.agent_stopped");
                // Cut mid-rotation and revoked before it was back: no valid identity is the outcome a theft wants.
                if (device.CutsUnrecovered > 0)
                {
                    Faults.Count("power_loss.revoked_before_recovery", device.CutsUnrecovered);
                }
                device.Stopped = true;
                return;
            }
            catch (Exception e)
            {
                Events.Errors.AddOrUpdate($"agent stopped: {e.GetType().Name}", 1, (_, n) => n + 1);
                device.Stopped = true;
                return;
            }
        }
    }

    /// <summary>A second device with a copy of the bootstrap certificate and key, started once the original enrolled:
    /// its enrollment must be refused (and audited with its address), and its agent stops.</summary>
    private async Task RunCloneAsync(SimulatedDevice original, int server, HttpClient? api, CancellationToken ct)
    {
        try
        {
            await original.FirstConnect.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return;  // the run ended before the original enrolled
        }
        Faults.Count("clone.injected");
        var options = Options(StateDirectory(original.Id, "clone-state"), (server + 1) % servers.Count,
            Path.Combine(factory.DevicesDirectory, original.Id));
        // The clone keeps asking, as a real one would (an operator may allow a wiped device to re-provision); its
        // refusals are its own, not the fleet's errors. Once refused, it is switched off.
        using var switchOff = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var agent = new DeviceAgent(options, new FleetEvents().ForDevice((_, values) =>
        {
            if (values.Any(v => v.Key == "Reason" && v.Value is "already_enrolled"))
            {
                refused.TrySetResult();
            }
        }), TimeProvider.System);
        var running = agent.RunAsync(switchOff.Token);
        try
        {
            if (await Task.WhenAny(refused.Task, running) == refused.Task)
            {
                Faults.Count("clone.refused");
                if (api is not null && await RefusalAuditedAsync(api, original.Id, ct))
                {
                    Faults.Count("clone.audited_with_address");
                }
            }
            else if (!ct.IsCancellationRequested)
            {
                Faults.Count("clone.not_refused");
            }
            await switchOff.CancelAsync();
            await running;
        }
        catch (OperationCanceledException)
        {
            // Switched off, or the run ended.
        }
        catch (AgentStoppedException)
        {
            // Refused for good (the original was revoked meanwhile): counted above if it was already_enrolled.
        }
        catch (Exception) when (switchOff.IsCancellationRequested)
        {
            // Switched off in the middle of a request: what was in flight fails, and that is the switch, not an error.
        }
    }

    private async Task<bool> RefusalAuditedAsync(HttpClient api, string id, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await api.GetAsync($"api/v1/audit?deviceId={Uri.EscapeDataString(id)}&action=enrollment.refused&limit=20", ct);
        }
        catch (HttpRequestException e)
        {
            Events.Errors.AddOrUpdate($"clone: audit query failed: {e.Message}", 1, (_, n) => n + 1);
            return false;
        }
        using var owned = response;
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.GetProperty("items").EnumerateArray().Any(e =>
            e.GetProperty("detail").GetString()?.Contains("already_enrolled", StringComparison.Ordinal) == true
            && e.GetProperty("sourceAddress").ValueKind == JsonValueKind.String);
    }

    /// <summary>An operator revokes the stolen device between a fifth and half of the run (its agent has the rest to learn it), once it is online:
    /// its session must close within a second.</summary>
    private async Task StealAsync(SimulatedDevice device, TimeSpan duration, DateTime started, HttpClient api, CancellationToken ct)
    {
        try
        {
            await device.FirstConnect.WaitAsync(ct);
            var at = started + duration * (0.2 + 0.3 * Random.Shared.NextDouble());
            await Delay(at - DateTime.UtcNow, ct);
            while (!device.Online)
            {
                await Task.Delay(100, ct);
            }
            var closed = device.NextSessionClosed();
            var sent = System.Diagnostics.Stopwatch.GetTimestamp();
            using var body = new StringContent("{\"reason\":\"keyCompromise\"}", System.Text.Encoding.UTF8, "application/json");
            using var response = await api.PostAsync($"api/v1/devices/{Uri.EscapeDataString(device.Id)}/revoke", body, ct);
            Faults.Count(response.IsSuccessStatusCode ? "stolen.revoked" : $"stolen.revoke_failed_{(int)response.StatusCode}");
            var done = await Task.WhenAny(closed, Task.Delay(TimeSpan.FromSeconds(10), ct));
            if (done == closed)
            {
                var ms = (await closed - sent) * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
                Faults.RevocationCloseMs.Add(ms);
                Faults.Count("stolen.off_broker");
                if (ms <= 1000)
                {
                    Faults.Count("stolen.off_broker_within_1s");
                }
            }
            else
            {
                Faults.Count("stolen.still_online");
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run ended before the theft.
        }
        catch (HttpRequestException e)
        {
            // The operator could not reach the API (an overloaded or dead instance): the theft is not carried out.
            Faults.Count("stolen.revoke_unreachable");
            Events.Errors.AddOrUpdate($"stolen: revoke call failed: {e.Message}", 1, (_, n) => n + 1);
        }
    }

    /// <summary>Kills a server instance at <paramref name="at"/>: each device it held must be back online on another
    /// instance within a minute, and an operator's renew ask (through the API, which the killed instance does not
    /// serve) must still reach it there. The instance is then restarted.</summary>
    private async Task KillServerAsync(ServerKill kill, DateTime at, CancellationToken ct)
    {
        var address = BrokerAddress(kill.Server).ToString();
        try
        {
            await Delay(at - DateTime.UtcNow, ct);
            var victims = Devices().Where(d => d.Online && d.Broker == address && !d.Stolen && !d.Cloned).ToList();
            Faults.Count("server_kill.injected");
            Faults.Count("server_kill.devices", victims.Count);
            await kill.KillAsync(ct);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (DateTime.UtcNow < deadline && !victims.All(Elsewhere))
            {
                await Task.Delay(200, ct);
            }
            var moved = victims.Where(Elsewhere).ToList();
            Faults.Count("server_kill.reconnected_elsewhere", moved.Count);
            if (_faults.Api is { } api)
            {
                using var http = OperatorHttp(api);
                var before = moved.ToDictionary(d => d, d => d.AsksReceived);
                foreach (var device in moved)
                {
                    using var response = await http.PostAsync($"api/v1/devices/{Uri.EscapeDataString(device.Id)}/renew", null, ct);
                    Faults.Count(response.IsSuccessStatusCode ? "server_kill.asks_sent" : $"server_kill.ask_failed_{(int)response.StatusCode}");
                }
                deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
                while (DateTime.UtcNow < deadline && before.Any(p => p.Key.AsksReceived == p.Value))
                {
                    await Task.Delay(200, ct);
                }
                Faults.Count("server_kill.asks_received", before.Count(p => p.Key.AsksReceived > p.Value));
            }
            await kill.RestartAsync(ct);
            Faults.Count("server_kill.restarted");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run ended first.
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException)
        {
            Events.Errors.AddOrUpdate($"server kill: {e.Message}", 1, (_, n) => n + 1);
        }

        bool Elsewhere(SimulatedDevice d) => d.Online && d.Broker != address;
    }

    /// <summary>Every storm interval, a share of the live broker connections is cut at once: all of those devices
    /// reconnect together, against the broker's connect rate limit.</summary>
    private async Task StormsAsync(CancellationToken ct)
    {
        var random = new Random(_faults.Seed);
        try
        {
            while (true)
            {
                await Task.Delay(_faults.StormInterval, ct);
                if (!Injecting())
                {
                    continue;
                }
                var cut = _proxies.Sum(p => p.Cut(_faults.NetworkDrop, random));
                Faults.Count("network_drop.storms");
                Faults.Count("network_drop.connections_cut", cut);
            }
        }
        catch (OperationCanceledException)
        {
            // The run's end.
        }
    }

    private HttpClient OperatorHttp(OperatorApi api) =>
        new(MutualTlsHandler.Create(api.Certificate, MutualTlsHandler.Anchors(caBundlePath))) { BaseAddress = api.BaseAddress };

    private static async Task Delay(TimeSpan wait, CancellationToken ct)
    {
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, ct);
        }
    }

    private string Line(TimeSpan elapsed, int running) => string.Create(CultureInfo.InvariantCulture,
        $"[{elapsed:hh\\:mm\\:ss}] devices={running} enrolled={Events.Enrolled} connected={Events.Connected} asked={Events.Asked} " +
        $"renewed={Events.Renewed} telemetry={Events.Telemetry} refused={Events.Refused} errors={Events.Errors.Values.Sum()}");

    /// <summary>key=value figures on one line, and the same as JSON.</summary>
    public (string Line, string Json) Summary(TimeSpan duration) => Tally().Render(duration);

    /// <summary>Everything counted so far, with the raw latency samples (to merge with other shards of one fleet).</summary>
    public FleetTally Tally() => new(
        new Dictionary<string, long>
        {
            ["enrolled"] = Events.Enrolled, ["connected"] = Events.Connected, ["asked"] = Events.Asked,
            ["rotations_on_ask"] = Events.RotationsOnAsk, ["rotations_on_timer"] = Events.RotationsOnTimer,
            ["renewed"] = Events.Renewed, ["telemetry"] = Events.Telemetry, ["refused"] = Events.Refused,
        },
        new Dictionary<string, long>(Events.Errors),
        new Dictionary<string, long>(Faults.Snapshot()),
        new Dictionary<string, double[]>
        {
            ["enroll"] = [.. Events.EnrollMs], ["connect"] = [.. Events.ConnectMs], ["rotation"] = [.. Events.RotationMs],
            ["revocation_close"] = [.. Faults.RevocationCloseMs], ["first_connect_at"] = [.. _firstConnectAtMs],
        },
        _faults.Any);
}
