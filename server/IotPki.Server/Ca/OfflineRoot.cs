using IotPki.Pki.Keys;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Ca;

/// <summary><c>ca root-offline</c>: a root key that an earlier version kept in the database (encrypted PKCS#8 in the
/// root's row) moves to an encrypted file in <see cref="CaKeyOptions.OfflineRootDirectory"/>, to be carried off the
/// machine; the row keeps only the file's reference.</summary>
public sealed class OfflineRoot(IotPkiDbContext db, CaKeyStores keys, TimeProvider clock)
{
    /// <summary>The file the key went to, or null when the root key was not in the database.</summary>
    public async Task<string?> MoveOutOfDatabaseAsync(string actor, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AuthorityStore.CreationLockKey})", ct);
        var root = await db.Authorities.SingleOrDefaultAsync(a => a.Role == AuthorityRole.Root, ct)
            ?? throw new InvalidOperationException("There is no root CA yet: start the server once to initialize the PKI.");
        if (CaKeyStores.KindOf(root.KeyReference) != "database")
        {
            return null;
        }
        var now = clock.GetUtcNow();
        // The PEM is already encrypted with the CA passphrase: it moves as it is.
        root.KeyReference = keys.OfflineFiles.Keep("iotpki-root", root.KeyReference);
        var path = root.KeyReference[EncryptedFileKeyStore.Scheme.Length..];
        db.AuditEvents.Add(new AuditEvent
        {
            At = now, Action = "ca.root_moved_offline", Actor = actor,
            Detail = $"root key moved from the database to {path}",
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return path;
    }
}
