using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Revocation;

/// <summary>The OCSP responder's view of the <c>certificates</c> table: one query per OCSP request.</summary>
public sealed class CertificateStatusStore(IServiceScopeFactory scopes) : ICertificateStatusSource
{
    public async Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        var rows = await db.Certificates.AsNoTracking()
            .Where(c => serialsHex.Contains(c.Serial))
            .Select(c => new { c.Serial, c.Status, c.RevokedAt, c.RevocationReason, c.IssuedAt })
            .ToListAsync(ct);
        return rows.Select(r => new KnownCertificate(r.Serial, r.Status == CertificateStatus.Revoked
                ? new RevokedCertificate(r.Serial, r.RevokedAt ?? r.IssuedAt, r.RevocationReason)
                : null))
            .ToList();
    }
}
