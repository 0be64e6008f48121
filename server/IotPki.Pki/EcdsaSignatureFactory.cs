using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;

namespace IotPki.Pki;

/// <summary>Lets BouncyCastle sign (OCSP responses) with a .NET ECDSA key, ECDSA with SHA-256, so the CA key never
/// leaves the .NET key object.</summary>
internal sealed class EcdsaSignatureFactory(ECDsa key) : ISignatureFactory
{
    private static readonly AlgorithmIdentifier Algorithm = new(X9ObjectIdentifiers.ECDsaWithSha256);

    public object AlgorithmDetails => Algorithm;

    public IStreamCalculator<IBlockResult> CreateCalculator() => new Calculator(key);

    private sealed class Calculator(ECDsa key) : IStreamCalculator<IBlockResult>
    {
        private readonly MemoryStream _data = new();

        public Stream Stream => _data;

        public IBlockResult GetResult() =>
            // BouncyCastle closes the stream before it asks for the result; ToArray still works on a closed MemoryStream.
            new SimpleBlockResult(key.SignData(_data.ToArray(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }
}
