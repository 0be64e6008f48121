using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Identity;

/// <summary>One attribute of a distinguished name, by OID: the value of the first single-valued RDN of that type. A
/// name that does not decode (a client certificate's subject is read lazily, after the TLS layer took it) has none.</summary>
public static class SubjectAttribute
{
    public const string CommonName = "2.5.4.3";
    public const string SerialNumber = "2.5.4.5";
    public const string OrganizationalUnit = "2.5.4.11";

    public static string? Find(X500DistinguishedName name, string oid)
    {
        try
        {
            foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
            {
                if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid)
                {
                    return rdn.GetSingleElementValue();
                }
            }
            return null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
