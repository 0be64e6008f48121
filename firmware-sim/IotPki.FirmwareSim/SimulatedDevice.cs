using System.Diagnostics;
using IotPki.Agent;

namespace IotPki.FirmwareSim;

/// <summary>What the fault injector knows of one simulated device: its fault assignments, whether it is online (from
/// its agent's own log), and a power cut armed for its current rotation.</summary>
public sealed class SimulatedDevice(string id, FleetFaults faults, FaultLedger ledger, Func<bool> injecting)
{
    /// <summary>Steps of a rotation at which power may fail (the agent's and its identity store's checkpoints).</summary>
    private const int RotationSteps = 9;

    private int _cutIn;
    // Power cuts not yet followed by a broker session: a device cut again while it resumes a rotation owes two.
    private int _cutsUnrecovered;
    private bool _announcedSkew;
    private readonly TaskCompletionSource _firstConnect = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<long> _sessionClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Id => id;
    // Which faults hit the device is fixed by the seed: decided once, not on every log entry that asks.
    public bool Skewed { get; } = faults.Hits(id, "skew", faults.ClockSkew);
    public bool Cloned { get; } = faults.Hits(id, "clone", faults.Clones);
    public bool Stolen { get; } = faults.Hits(id, "stolen", faults.Stolen) && faults.Api is not null;
    public volatile bool Online;
    public volatile bool Stopped;
    private int _rotationsOnAsk;
    private int _asksReceived;
    private volatile string? _sessionSerial;

    private static string? Serial(IReadOnlyList<KeyValuePair<string, object?>> values) =>
        values.FirstOrDefault(v => v.Key == "Serial").Value?.ToString()?.ToLowerInvariant();

    /// <summary>The broker the agent uses now: its first one, until it moves on from one it cannot reach.</summary>
    public string? Broker { get; set; }

    public int RotationsOnAsk => Volatile.Read(ref _rotationsOnAsk);

    /// <summary>Renew asks that reached the agent (one that lands mid-rotation is answered by that rotation).</summary>
    public int AsksReceived => Volatile.Read(ref _asksReceived);

    /// <summary>Completes when the device first holds a broker session.</summary>
    public Task FirstConnect => _firstConnect.Task;

    /// <summary>The stopwatch timestamp of the next session close after this call.</summary>
    public Task<long> NextSessionClosed()
    {
        var next = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _sessionClosed, next);
        return next.Task;
    }

    public TimeProvider Clock() => Skewed ? new SkewedClock(faults.SkewOf(id)) : TimeProvider.System;

    /// <summary>Sees each of the agent's log templates.</summary>
    public void Observe(string template, IReadOnlyList<KeyValuePair<string, object?>> values)
    {
        if (template.StartsWith("Rotating certificate", StringComparison.Ordinal)
            && faults.PowerLoss > 0 && injecting() && Random.Shared.NextDouble() < faults.PowerLoss)
        {
            Volatile.Write(ref _cutIn, 1 + Random.Shared.Next(RotationSteps));
        }
        else if (template.StartsWith("Connected as", StringComparison.Ordinal) || template.StartsWith("New certificate {Serial} proven", StringComparison.Ordinal))
        {
            Online = true;
            _sessionSerial = Serial(values);
            _firstConnect.TrySetResult();
            if (Interlocked.Exchange(ref _cutsUnrecovered, 0) is var recovered and > 0)
            {
                ledger.Count("power_loss.recovered", recovered);
            }
            if (Skewed && !_announcedSkew)
            {
                _announcedSkew = true;
                ledger.Count("clock_skew.connected");
            }
        }
        else if (template.StartsWith("Broker {Broker} unreachable", StringComparison.Ordinal))
        {
            Broker = values.FirstOrDefault(v => v.Key == "Next").Value?.ToString();
        }
        else if (template.StartsWith("Renew command received on", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _asksReceived);
        }
        else if (template.StartsWith("Rotating certificate {Serial} on the server's renew command", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _rotationsOnAsk);
        }
        else if (template.StartsWith("Broker connection closed", StringComparison.Ordinal)
            && (Serial(values) is not { } closed || closed == _sessionSerial))
        {
            // The close of an earlier session (the one a rotation replaced) leaves the device online on its new one.
            Online = false;
            Volatile.Read(ref _sessionClosed).TrySetResult(Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Power cuts this device has not come back from: it was revoked (stolen) before it could.</summary>
    public int CutsUnrecovered => Volatile.Read(ref _cutsUnrecovered);

    /// <summary>The agent's checkpoint hook: the armed power cut happens here, between two durable steps.</summary>
    public void Checkpoint(string step)
    {
        if (Volatile.Read(ref _cutIn) > 0 && Interlocked.Decrement(ref _cutIn) == 0)
        {
            Interlocked.Increment(ref _cutsUnrecovered);
            Online = false;
            ledger.Count("power_loss.injected");
            throw new PowerCutException(step);
        }
    }
}

/// <summary>The simulated device lost power at <paramref name="step"/>: everything in memory is gone.</summary>
public sealed class PowerCutException(string step) : Exception($"power lost at {step}");
