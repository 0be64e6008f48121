using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace IotPki.Pki.Keys;

/// <summary>Keys generated inside a PKCS#11 token (an HSM; SoftHSM2 in tests): sensitive, never extractable, found
/// again by their <c>pkcs11:</c> URI.</summary>
public sealed class Pkcs11KeyStore(Pkcs11Token token) : ICaKeyStore
{
    // DER of the named curve P-256 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of every key we generate.
    private static readonly byte[] P256Parameters = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    private const int PointLength = 65;

    public string Kind => "pkcs11";

    public string TokenLabel => token.Label;

    public CaKey Generate(string label)
    {
        var id = RandomNumberGenerator.GetBytes(16);
        var attributes = token.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> publicTemplate =
        [
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, false),
            attributes.Create(CKA.CKA_VERIFY, true),
            attributes.Create(CKA.CKA_EC_PARAMS, P256Parameters),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, id),
        ];
        List<IObjectAttribute> privateTemplate =
        [
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_SIGN, true),
            // A CA key signs and does nothing else.
            attributes.Create(CKA.CKA_DECRYPT, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_DERIVE, false),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, id),
        ];
        var key = token.WithSession(session =>
        {
            using var mechanism = token.Factories.MechanismFactory.Create(CKM.CKM_EC_KEY_PAIR_GEN);
            session.GenerateKeyPair(mechanism, publicTemplate, privateTemplate, out var publicKey, out var privateKey);
            return new Pkcs11EcdsaKey(token, privateKey, ReadPublic(session, publicKey));
        });
        return new CaKey(key, new Pkcs11Uri(token.Label, label, id).ToString());
    }

    public bool Recognizes(string reference) => reference.StartsWith(Pkcs11Uri.Scheme, StringComparison.Ordinal);

    public ECDsa Open(string reference)
    {
        var uri = Pkcs11Uri.Parse(reference);
        if (uri.Token != token.Label)
        {
            throw new CryptographicException($"The key {reference} is on token '{uri.Token}', not on the configured token '{token.Label}'.");
        }
        return token.WithSession(session =>
        {
            var privateKey = FindOne(session, CKO.CKO_PRIVATE_KEY, uri);
            var publicKey = FindOne(session, CKO.CKO_PUBLIC_KEY, uri);
            return new Pkcs11EcdsaKey(token, privateKey, ReadPublic(session, publicKey));
        });
    }

    public void Destroy(string reference)
    {
        var uri = Pkcs11Uri.Parse(reference);
        var attributes = token.Factories.ObjectAttributeFactory;
        token.WithSession(session =>
        {
            foreach (var handle in session.FindAllObjects([attributes.Create(CKA.CKA_ID, uri.Id)]))
            {
                session.DestroyObject(handle);
            }
            return 0;
        });
    }

    private IObjectHandle FindOne(ISession session, CKO objectClass, Pkcs11Uri uri)
    {
        var attributes = token.Factories.ObjectAttributeFactory;
        var found = session.FindAllObjects([attributes.Create(CKA.CKA_CLASS, objectClass), attributes.Create(CKA.CKA_ID, uri.Id)]);
        return found.Count == 1 ? found[0]
            : throw new CryptographicException($"The token '{token.Label}' holds {found.Count} {objectClass} objects for {uri}.");
    }

    private static ECParameters ReadPublic(ISession session, IObjectHandle publicKey)
    {
        var value = session.GetAttributeValue(publicKey, [CKA.CKA_EC_POINT])[0].GetValueAsByteArray();
        // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point; some tokens return the bare point.
        var point = value.Length == PointLength + 2 && value[0] == 0x04 && value[1] == PointLength ? value[2..] : value;
        if (point.Length != PointLength || point[0] != 0x04)
        {
            throw new CryptographicException("The token returned an EC point that is not an uncompressed P-256 point.");
        }
        return new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point[1..33], Y = point[33..] },
        };
    }
}
