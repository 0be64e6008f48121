namespace IotPki.Server.Est;

public static class EstContentTypes
{
    public const string CertsOnly = "application/pkcs7-mime; smime-type=certs-only";
    public const string CaCerts = "application/pkcs7-mime";
    public const string CsrAttrs = "application/csrattrs";
}
