using System.Text.RegularExpressions;

namespace IotPki.Pki;

/// <summary>A device's identity: lower-case letters and digits, then up to 63 of <c>[a-z0-9._-]</c>.</summary>
public readonly partial record struct DeviceId
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

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{2,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
