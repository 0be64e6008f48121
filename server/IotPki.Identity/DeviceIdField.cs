namespace IotPki.Identity;

/// <summary>Which subject attribute of a manufacturer's bootstrap certificates carries the device id.</summary>
public enum DeviceIdField
{
    CommonName,
    SerialNumber,
}
