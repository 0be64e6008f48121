using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Ca;

/// <summary>Creates the service's CAs on first run and loads them afterwards, from PostgreSQL.</summary>
public sealed class AuthorityStore(IotPkiDbContext db, TimeProvider clock)
{
    // Serializes first-run creation across server instances that share one database.
    private const long CreationLockKey = 0x10_7B_0C_A0;

    public static readonly TimeSpan RootLifetime = TimeSpan.FromDays(3650);
    public static readonly TimeSpan IssuingLifetime = TimeSpan.FromDays(1825);

    public async Task<(CertificateAuthority Root, CertificateAuthority Issuing)> LoadOrCreateAsync(string passphrase, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({CreationLockKey})", ct);
        var records = await db.Authorities.ToDictionaryAsync(a => a.Role, ct);
        var now = clock.GetUtcNow();

        CertificateAuthority root, issuing;
        if (records.TryGetValue(AuthorityRole.Root, out var rootRecord))
        {
            root = CertificateAuthority.Load(rootRecord.CertificatePem, rootRecord.EncryptedKeyPem, passphrase);
        }
        else
        {
            root = CertificateAuthority.CreateRoot("IotPki Root CA", RootLifetime, now);
            Add(AuthorityRole.Root, root, passphrase, now);
        }

        if (records.TryGetValue(AuthorityRole.Issuing, out var issuingRecord))
        {
            issuing = CertificateAuthority.Load(issuingRecord.CertificatePem, issuingRecord.EncryptedKeyPem, passphrase);
        }
        else
        {
            issuing = CertificateAuthority.CreateSubordinate("IotPki Issuing CA", IssuingLifetime, now, root);
            Add(AuthorityRole.Issuing, issuing, passphrase, now);
        }

        if (!records.ContainsKey(AuthorityRole.DemoManufacturer))
        {
            using var demo = CertificateAuthority.CreateRoot("IotPki Demo Manufacturer CA", RootLifetime, now);
            Add(AuthorityRole.DemoManufacturer, demo, passphrase, now);
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

    public async Task<CertificateAuthority> LoadAsync(string role, string passphrase, CancellationToken ct)
    {
        var record = await db.Authorities.AsNoTracking().SingleOrDefaultAsync(a => a.Role == role, ct)
            ?? throw new InvalidOperationException($"The {role} CA does not exist yet: start the server once to initialize the PKI.");
        return CertificateAuthority.Load(record.CertificatePem, record.EncryptedKeyPem, passphrase);
    }

    private void Add(string role, CertificateAuthority ca, string passphrase, DateTimeOffset now)
    {
        db.Authorities.Add(new AuthorityRecord
        {
            Role = role,
            CertificatePem = ca.CertificatePem,
            EncryptedKeyPem = ca.ExportEncryptedKeyPem(passphrase),
            CreatedAt = now,
        });
        db.AuditEvents.Add(new AuditEvent
        {
            At = now,
            Action = "ca.created",
            Actor = "system",
            Detail = $"{role}: {ca.Certificate.Subject}",
        });
    }
}
