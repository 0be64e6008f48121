using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

/// <summary>Which subject attribute of a manufacturer's bootstrap certificates carries the device id.</summary>
public enum DeviceIdField
{
    CommonName,
    SerialNumber,
}

public static class BootstrapIdentity
{
    private const string CommonNameOid = "2.5.4.3";
    private const string SerialNumberOid = "2.5.4.5";

    public static bool TryReadDeviceId(X509Certificate2 bootstrap, DeviceIdField field, out DeviceId id)
    {
        var oid = field == DeviceIdField.SerialNumber ? SerialNumberOid : CommonNameOid;
        foreach (var rdn in bootstrap.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid)
            {
                return DeviceId.TryParse(rdn.GetSingleElementValue()?.ToLowerInvariant(), out id);
            }
        }
        id = default;
        return false;
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
