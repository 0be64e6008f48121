using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace IotPki.Identity;

/// <summary>A device's identity: lower-case letters and digits, then up to 63 of <c>[a-z0-9._-]</c>. Parsed once at
/// the edge (TLS handshake, EST request, API route) and carried typed to the database row and the broker session.</summary>
[JsonConverter(typeof(DeviceIdJsonConverter))]
public readonly partial record struct DeviceId : IComparable<DeviceId>
{
    public string Value { get; }

    private DeviceId(string value) => Value = value;

    public static bool TryParse(string? s, out DeviceId id)
    {
        if (s is not null && Pattern().IsMatch(s))
        {
            id = new DeviceId(s);
            return true;
        }
        id = default;
        return false;
    }

    public static DeviceId Parse(string s) =>
        TryParse(s, out var id) ? id : throw new FormatException($"'{s}' is not a device id: expected [a-z0-9][a-z0-9._-]{{2,63}}.");

    public override string ToString() => Value;

    /// <summary>Ordinal in memory; in a query the comparison is PostgreSQL's own on the id column (keyset paging).</summary>
    public int CompareTo(DeviceId other) => string.CompareOrdinal(Value, other.Value);

    public static bool operator >(DeviceId left, DeviceId right) => left.CompareTo(right) > 0;
    public static bool operator <(DeviceId left, DeviceId right) => left.CompareTo(right) < 0;
    public static bool operator >=(DeviceId left, DeviceId right) => left.CompareTo(right) >= 0;
    public static bool operator <=(DeviceId left, DeviceId right) => left.CompareTo(right) <= 0;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{2,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>A device id is a JSON string; one that does not parse is a JSON error, not a device.</summary>
public sealed class DeviceIdJsonConverter : JsonConverter<DeviceId>
{
    public override DeviceId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DeviceId.TryParse(reader.GetString(), out var id) ? id : throw new JsonException("Not a device id: expected [a-z0-9][a-z0-9._-]{2,63}.");

    public override void Write(Utf8JsonWriter writer, DeviceId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}
