using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;

namespace IotPki.Pki;

/// <summary>What a manufacturer CA does on the production line: a bootstrap (birth) certificate for one device.
/// The service plays this role for demos and the firmware simulator.</summary>
public static class BootstrapIssuer
{
    public static X509Certificate2 Issue(CertificateAuthority manufacturerCa, DeviceId deviceId, ECDsa deviceKey,
        DateTimeOffset notBefore, DateTimeOffset notAfter, DeviceIdField field = DeviceIdField.CommonName)
    {
        var subject = field == DeviceIdField.SerialNumber
            ? new X500DistinguishedName($"CN=IoT device, SERIALNUMBER={deviceId}, O=IotPki Demo Manufacturer")
            : new X500DistinguishedName($"CN={deviceId}, O=IotPki Demo Manufacturer");
        return Issue(manufacturerCa, subject, deviceKey, notBefore, notAfter);
    }

    /// <summary>A bootstrap certificate with the subject as the manufacturer writes it.</summary>
    public static X509Certificate2 Issue(CertificateAuthority manufacturerCa, X500DistinguishedName subject, ECDsa deviceKey,
        DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(subject, deviceKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(manufacturerCa.Certificate, true, false));
        return request.Create(manufacturerCa.Subject, X509SignatureGenerator.CreateForECDsa(manufacturerCa.Key), notBefore, notAfter, SerialNumber.NewSerial());
    }
}
