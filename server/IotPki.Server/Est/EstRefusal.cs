namespace IotPki.Server.Est;

/// <summary>Why an EST request was refused: the HTTP status, a stable reason code, and words for a person.</summary>
public sealed record EstRefusal(int Status, string Reason, string Detail)
{
    public static EstRefusal NoClientCertificate(string operation) => new(401, "no_client_certificate", operation switch
    {
        EstOperation.SimpleEnroll => "A TLS client certificate is required: present the device's bootstrap certificate.",
        EstOperation.SimpleReenroll => "A TLS client certificate is required: present the device's current operational certificate.",
        _ => "A TLS client certificate is required: present the device's bootstrap certificate or its current operational certificate.",
    });
    public static EstRefusal KeyEncryptionUnsupported() => new(400, "key_encryption_unsupported",
        "The CSR asks for the server-made key to be encrypted (DecryptKeyIdentifier or AsymmetricDecryptKeyIdentifier); this server sends it only inside the mutual-TLS connection. Ask without those attributes.");
    public static EstRefusal ServerKeyGenDisabled() => new(403, "serverkeygen_disabled",
        "This server does not generate device keys (Est:ServerKeyGen is false): generate the key on the device and use simpleenroll.");
    public static EstRefusal WrongContentType(string? got) => new(415, "wrong_content_type",
        $"The request Content-Type must be application/pkcs10, not '{got ?? "(none)"}'.");
    public static EstRefusal TooLarge(int limit) => new(413, "request_too_large", $"The request body is larger than {limit} bytes.");
    public static EstRefusal BadCsr(IotPki.Pki.CsrException e) => new(400, e.Error switch
    {
        IotPki.Pki.CsrError.MalformedBase64 => "malformed_base64",
        IotPki.Pki.CsrError.BadSignature => "bad_csr_signature",
        IotPki.Pki.CsrError.UnsupportedKey => "unsupported_key",
        IotPki.Pki.CsrError.TooLarge => "request_too_large",
        IotPki.Pki.CsrError.UnsupportedSignature => "unsupported_signature_algorithm",
        _ => "not_a_csr",
    }, e.Message);
    public static EstRefusal Busy(int retryAfterSeconds) => new(503, "server_busy",
        $"This server is enrolling as many devices as it can and its queue is full: retry in {retryAfterSeconds} seconds.");
    public static EstRefusal Forbidden(string reason, string detail) => new(403, reason, detail);
    public static EstRefusal TlsUniqueMismatch() => new(403, "tls_unique_mismatch",
        "The CSR's challengePassword is not this TLS session's tls-unique value: the CSR was not made for this connection (RFC 7030 §3.5).");
    public static EstRefusal ProofOfPossessionRequired() => new(403, "proof_of_possession_required",
        "This device's manufacturer requires proof of possession on first enrollment: put the TLS 1.2 session's tls-unique, base64, in the CSR's challengePassword (RFC 7030 §3.5; estclient -z).");
    public static EstRefusal TlsUniqueUnavailable() => new(400, "tls_unique_unavailable",
        "The CSR carries a challengePassword, but this connection is TLS 1.3, which has no tls-unique to check it against: use TLS 1.2 for proof of possession, or leave challengePassword out.");
}

public static class EstOperation
{
    public const string SimpleEnroll = "simpleenroll";
    public const string SimpleReenroll = "simplereenroll";
    public const string ServerKeyGen = "serverkeygen";
}
