namespace IotPki.Pki;

/// <summary>Whether a CSR must prove possession of its key (<c>simpleenroll</c>, <c>simplereenroll</c>) or carries
/// a placeholder key the server ignores because it makes the key itself (<c>serverkeygen</c>, RFC 7030 §4.4.1).</summary>
public enum KeyProof
{
    Required,
    Ignored,
}
