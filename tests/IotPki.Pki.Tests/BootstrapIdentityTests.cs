using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;

namespace IotPki.Pki.Tests;

/// <summary>The one rule, shared by server and agent, for the device id of a bootstrap certificate.</summary>
public class BootstrapIdentityTests
{
    [Theory]
    [InlineData("CN=dev-0001", DeviceIdField.CommonName, "dev-0001")]
    [InlineData("CN=DEV-0001", DeviceIdField.CommonName, "dev-0001")]
    [InlineData("CN=Acme sensor, SERIALNUMBER=SN-0042", DeviceIdField.SerialNumber, "sn-0042")]
    [InlineData("CN=dev-0001, SERIALNUMBER=SN-0042", DeviceIdField.CommonName, "dev-0001")]
    [InlineData("CN=dev-0001, SERIALNUMBER=SN-0042", DeviceIdField.SerialNumber, "sn-0042")]
    public void The_registered_attribute_is_read_and_lower_cased(string subject, DeviceIdField field, string expected)
    {
        using var certificate = SelfSigned(subject);

        Assert.True(BootstrapIdentity.TryReadDeviceId(certificate, field, out var id));
        Assert.Equal(expected, id.Value);
    }

    [Theory]
    [InlineData("SERIALNUMBER=SN-0042", DeviceIdField.CommonName)]
    [InlineData("CN=dev-0001", DeviceIdField.SerialNumber)]
    [InlineData("CN=Acme sensor", DeviceIdField.CommonName)]
    public void Without_a_valid_id_in_the_registered_attribute_there_is_none_and_no_fallback(string subject, DeviceIdField field)
    {
        using var certificate = SelfSigned(subject);

        Assert.False(BootstrapIdentity.TryReadDeviceId(certificate, field, out _));
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    }
}
