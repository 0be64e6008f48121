namespace IotPki.Pki;

/// <summary>Why a certificate signing request was refused.</summary>
public enum CsrError
{
    MalformedBase64,
    NotACsr,
    BadSignature,
    UnsupportedKey,
    TooLarge,
}

public sealed class CsrException(CsrError error, string message) : Exception(message)
{
    public CsrError Error { get; } = error;
}
