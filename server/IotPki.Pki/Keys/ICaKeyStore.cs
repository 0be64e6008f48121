using System.Security.Cryptography;

namespace IotPki.Pki.Keys;

/// <summary>Where a CA's private key lives. Every CA key operation (issue, CRL, OCSP, server TLS) signs through the
/// <see cref="ECDsa"/> a store hands out; only the store knows whether the key is in memory or in hardware.</summary>
public interface ICaKeyStore
{
    /// <summary>A short name for audit rows and <c>ca show</c>: <c>database</c>, <c>file</c> or <c>pkcs11</c>.</summary>
    string Kind { get; }

    /// <summary>Generates a P-256 key pair inside the store.</summary>
    CaKey Generate(string label);

    /// <summary>Whether <paramref name="reference"/> names a key of this kind of store.</summary>
    bool Recognizes(string reference);

    /// <summary>The signing key <paramref name="reference"/> names (the caller disposes it).</summary>
    ECDsa Open(string reference);

    /// <summary>Destroys the key for good (a retired CA's): after this nothing can sign with it. The caller forgets the
    /// reference too; for the database store that is all destruction takes.</summary>
    void Destroy(string reference);
}

/// <summary>A CA key and the reference kept beside its certificate to open it again (never the key itself in clear).</summary>
public sealed record CaKey(ECDsa Key, string Reference);
