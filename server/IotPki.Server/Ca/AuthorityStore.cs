using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Pki.Keys;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Ca;

/// <summary>Creates the service's CAs on first run and loads them afterwards, from PostgreSQL. The database holds each
/// CA's certificate and a reference to its key: the encrypted key itself, a <c>pkcs11:</c> URI, or (the root) a file
/// kept off the database. A running server loads the issuing CA's key and only the root's certificate.</summary>
public sealed class AuthorityStore(IotPkiDbContext db, TimeProvider clock, CaKeyStores keys, CaPassphraseSource passphrase)
{
    // Serializes first-run creation across server instances that share one database.
    internal const long CreationLockKey = 0x10_7B_0C_A0;

    public static readonly TimeSpan RootLifetime = TimeSpan.FromDays(3650);
    public static readonly TimeSpan IssuingLifetime = TimeSpan.FromDays(1825);

    /// <summary>Whether the root key is still in the database, as versions before the offline root kept it.</summary>
    public bool RootKeyInDatabase { get; private set; }

    /// <summary>An issuing CA key this store opened (decrypted, or found in its token) while loading.</summary>
    public sealed record OpenedKey(string Role, string Store);

    /// <summary>The issuing CA keys opened by the loads of this store, for their audit rows.</summary>
    public List<OpenedKey> OpenedKeys { get; } = [];

    /// <summary>An issuing CA as loaded: its name (role), its certificate and key, and whether it is the one that signs.</summary>
    public sealed record LoadedIssuing(string Name, CertificateAuthority Ca, bool Active);

    public async Task<(X509Certificate2 Root, List<LoadedIssuing> Issuing)> LoadOrCreateAsync(CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({CreationLockKey})", ct);
        var records = await db.Authorities.ToDictionaryAsync(a => a.Role, ct);
        var now = clock.GetUtcNow();

        X509Certificate2 root;
        List<LoadedIssuing> issuing;
        if (records.TryGetValue(AuthorityRole.Root, out var rootRecord))
        {
            root = X509Certificate2.CreateFromPem(rootRecord.CertificatePem);
            RootKeyInDatabase = CaKeyStores.KindOf(rootRecord.KeyReference) == "database";
            issuing = LoadIssuing(records.Values);
        }
        else
        {
            // First run: the root key is generated where it will stay (a file to move off this machine, or a token),
            // signs the issuing CA, and is let go. No running server opens it again.
            var rootKey = keys.Root.Generate("iotpki-root");
            using var rootCa = CertificateAuthority.CreateRoot("IotPki Root CA", RootLifetime, now, rootKey.Key);
            Add(AuthorityRole.Root, rootCa, rootKey.Reference, now);
            var issuingKey = keys.Issuing.Generate("iotpki-issuing");
            var first = CertificateAuthority.CreateSubordinate("IotPki Issuing CA", IssuingLifetime, now, rootCa, issuingKey.Key);
            Add(AuthorityRole.Issuing, first, issuingKey.Reference, now).Active = true;
            root = X509CertificateLoader.LoadCertificate(rootCa.Certificate.RawData);
            issuing = [new LoadedIssuing(AuthorityRole.Issuing, first, Active: true)];
        }

        if (!records.ContainsKey(AuthorityRole.DemoManufacturer))
        {
            // The demo manufacturer stands in for a factory's own CA: its key is an ordinary database key.
            var demoKey = new EncryptedPemKeyStore(passphrase.Get()).Generate("demo-manufacturer");
            using var demo = CertificateAuthority.CreateRoot("IotPki Demo Manufacturer CA", RootLifetime, now, demoKey.Key);
            Add(AuthorityRole.DemoManufacturer, demo, demoKey.Reference, now);
            if (!await db.Manufacturers.AnyAsync(m => m.Name == AuthorityRole.DemoManufacturerName, ct))
            {
                db.Manufacturers.Add(Manufacturer.FromCa(
                    AuthorityRole.DemoManufacturerName, demo.Certificate, DeviceIdField.CommonName, now));
            }
        }

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (root, issuing);
    }

    /// <summary>The issuing CAs not retired, each with its key from its store.</summary>
    /// <param name="loaded">CAs this instance has loaded already, by role: reused when their certificate is the same,
    /// so that a reload after a rollover opens (decrypts, or finds in the token) only the new key.</param>
    public async Task<List<LoadedIssuing>> LoadIssuingAsync(IReadOnlyDictionary<string, CertificateAuthority> loaded, CancellationToken ct) =>
        LoadIssuing(await db.Authorities.AsNoTracking().ToListAsync(ct), loaded);

    private List<LoadedIssuing> LoadIssuing(IEnumerable<AuthorityRecord> records, IReadOnlyDictionary<string, CertificateAuthority>? loaded = null)
    {
        var issuing = new List<LoadedIssuing>();
        foreach (var r in records.Where(r => AuthorityRole.IsIssuing(r.Role) && r.RetiredAt is null))
        {
            if (loaded?.GetValueOrDefault(r.Role) is not { } ca || ca.CertificatePem != r.CertificatePem)
            {
                ca = CertificateAuthority.Load(r.CertificatePem, keys.Open(r.KeyReference));
                OpenedKeys.Add(new OpenedKey(r.Role, CaKeyStores.KindOf(r.KeyReference)));
            }
            issuing.Add(new LoadedIssuing(r.Role, ca, r.Active));
        }
        return issuing.Count(i => i.Active) == 1 ? issuing
            : throw new InvalidOperationException($"{issuing.Count(i => i.Active)} issuing CAs are marked active; exactly one must be: the authorities table is damaged.");
    }

    /// <summary>A CA with its key, for the commands that sign with it (the demo manufacturer's bootstrap certificates).</summary>
    public async Task<CertificateAuthority> LoadAsync(string role, CancellationToken ct)
    {
        var record = await db.Authorities.AsNoTracking().SingleOrDefaultAsync(a => a.Role == role, ct)
            ?? throw new InvalidOperationException($"The {role} CA does not exist yet: start the server once to initialize the PKI.");
        return CertificateAuthority.Load(record.CertificatePem, keys.Open(record.KeyReference));
    }

    private AuthorityRecord Add(string role, CertificateAuthority ca, string keyReference, DateTimeOffset now)
    {
        var record = new AuthorityRecord
        {
            Role = role,
            CertificatePem = ca.CertificatePem,
            KeyReference = keyReference,
            CreatedAt = now,
        };
        db.Authorities.Add(record);
        db.AuditEvents.Add(new AuditEvent
        {
            At = now,
            Action = "ca.created",
            Actor = "system",
            Detail = $"{role}: {ca.Certificate.Subject}; key generated in the {CaKeyStores.KindOf(keyReference)} store",
        });
        return record;
    }
}
