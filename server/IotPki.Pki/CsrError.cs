namespace IotPki.Pki;

/// <summary>Why a certificate signing request was refused.</summary>
public enum CsrError
{
    MalformedBase64,
    NotACsr,
    BadSignature,
    UnsupportedKey,
    TooLarge,
    /// <summary>Signed with an algorithm other than ECDSA or RSA over SHA-256/384/512 (MD5, SHA-1, unknown).</summary>
    UnsupportedSignature,
}

public sealed class CsrException(CsrError error, string message) : Exception(message)
{
    public CsrError Error { get; } = error;
}
