using System.Text.Json;
using System.Text.Json.Serialization;

namespace IotPki.Server.Data.Entities;

/// <summary>Where a device is in its life; stored and shown as the lower-case name (<c>active</c>). Only
/// <c>DeviceLifecycle</c> moves a device from one state to another.</summary>
[JsonConverter(typeof(DeviceStateJsonConverter))]
public enum DeviceState
{
    /// <summary>Serial registered by the manufacturer; no operational certificate yet.</summary>
    Registered,
    /// <summary>Presented an unregistered serial of a manufacturer whose policy is "pending": waits for an operator.</summary>
    Pending,
    /// <summary>Holds an operational certificate.</summary>
    Active,
    Suspended,
    Revoked,
    /// <summary>Refused by an operator before enrollment; its bootstrap certificate cannot enroll.</summary>
    Blocked,
}

public static class DeviceStateNames
{
    private static readonly EnumNames<DeviceState> Names = new(Name);

    public static IReadOnlyList<DeviceState> All => Names.All;

    /// <summary>The name rows, notices and the API carry: <c>registered</c>, <c>pending</c>, <c>active</c>, …</summary>
    public static string Name(this DeviceState state) => state switch
    {
        DeviceState.Registered => "registered",
        DeviceState.Pending => "pending",
        DeviceState.Active => "active",
        DeviceState.Suspended => "suspended",
        DeviceState.Revoked => "revoked",
        DeviceState.Blocked => "blocked",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static bool TryParse(string? name, out DeviceState value) => Names.TryParse(name, out value);

    public static DeviceState Parse(string name) => Names.Parse(name);
}

/// <summary>A state in JSON is its lower-case name, as in the rows.</summary>
public sealed class DeviceStateJsonConverter() : JsonStringEnumConverter<DeviceState>(JsonNamingPolicy.CamelCase, allowIntegerValues: false);
