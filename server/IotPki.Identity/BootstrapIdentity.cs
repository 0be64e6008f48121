using System.Security.Cryptography.X509Certificates;

namespace IotPki.Identity;

/// <summary>The one rule, used by the server and the agent alike, for reading a device id out of a bootstrap
/// certificate: the attribute the manufacturer registered (<see cref="DeviceIdField"/>), lower-cased, and it must be
/// a valid <see cref="DeviceId"/>. No fallback to the other attribute: a certificate that carries both means the
/// registered one.</summary>
public static class BootstrapIdentity
{
    public static bool TryReadDeviceId(X509Certificate2 bootstrap, DeviceIdField field, out DeviceId id)
    {
        var oid = field == DeviceIdField.SerialNumber ? SubjectAttribute.SerialNumber : SubjectAttribute.CommonName;
        return DeviceId.TryParse(SubjectAttribute.Find(bootstrap.SubjectName, oid)?.ToLowerInvariant(), out id);
    }

    public static string FieldName(DeviceIdField field) => field == DeviceIdField.SerialNumber ? "serialNumber" : "cn";

    public static bool TryParseField(string? name, out DeviceIdField field)
    {
        (var ok, field) = name?.ToLowerInvariant() switch
        {
            "cn" or "commonname" => (true, DeviceIdField.CommonName),
            "serialnumber" or "serial" => (true, DeviceIdField.SerialNumber),
            _ => (false, DeviceIdField.CommonName),
        };
        return ok;
    }
}
