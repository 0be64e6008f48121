using IotPki.Pki;
using IotPki.Server.Data.Entities;
using Npgsql;

namespace IotPki.Server.Revocation;

/// <summary>The OCSP responder's view of the <c>certificates</c> table: one indexed query per OCSP request, on a plain
/// data source (through EF Core, building the query cost more than running it: a third of an answer's CPU).</summary>
public sealed class CertificateStatusStore(NpgsqlDataSource database) : ICertificateStatusSource
{
    private const string Query = """
        SELECT "Serial", "Status", coalesce("RevokedAt", "IssuedAt"), "RevocationReason" FROM certificates WHERE "Serial" = ANY(@serials)
        """;

    public async Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct)
    {
        await using var command = database.CreateCommand(Query);
        command.Parameters.Add(new NpgsqlParameter<string[]>("serials", [.. serialsHex]));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var found = new List<KnownCertificate>(serialsHex.Count);
        while (await reader.ReadAsync(ct))
        {
            var serial = reader.GetString(0);
            found.Add(new KnownCertificate(serial, reader.GetString(1) == CertificateStatus.Revoked
                ? new RevokedCertificate(serial, reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(3) ? null : reader.GetInt32(3))
                : null));
        }
        return found;
    }
}
