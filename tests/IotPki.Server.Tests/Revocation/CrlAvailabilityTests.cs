using System.Net;
using IotPki.Server.Tests.Infrastructure;
using Npgsql;

namespace IotPki.Server.Tests.Revocation;

/// <summary>Its own server and database: the test cuts the database off.</summary>
public sealed class CrlAvailabilityTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task While_PostgreSQL_refuses_connections_the_last_CRL_is_still_served_and_OCSP_answers_internalError()
    {
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        var before = await http.GetByteArrayAsync("/crl/issuing.crl");
        var admin = new NpgsqlConnectionStringBuilder(server.Database.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;

        await AdminAsync(admin, $"ALTER DATABASE \"{server.Database.Name}\" WITH ALLOW_CONNECTIONS false");
        try
        {
            await AdminAsync(admin, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{server.Database.Name}'");

            using var crl = await http.GetAsync("/crl/issuing.crl");
            using var ocsp = await http.PostAsync("/ocsp", new ByteArrayContent(OcspRequestFor("0123456789abcdef0123456789abcdef"))
            {
                Headers = { ContentType = new("application/ocsp-request") },
            });

            Assert.Equal(HttpStatusCode.OK, crl.StatusCode);
            Assert.Equal(before, await crl.Content.ReadAsByteArrayAsync());
            Assert.Equal(HttpStatusCode.OK, ocsp.StatusCode);
            Assert.Equal(Org.BouncyCastle.Asn1.Ocsp.OcspResponseStatus.InternalError,
                new Org.BouncyCastle.Ocsp.OcspResp(await ocsp.Content.ReadAsByteArrayAsync()).Status);
        }
        finally
        {
            await AdminAsync(admin, $"ALTER DATABASE \"{server.Database.Name}\" WITH ALLOW_CONNECTIONS true");
        }
        NpgsqlConnection.ClearAllPools();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/crl/issuing.crl")).StatusCode);
    }

    private byte[] OcspRequestFor(string serialHex)
    {
        var issuer = new Org.BouncyCastle.X509.X509Certificate(server.Pki.Issuing.RawData);
        var sha1 = new Org.BouncyCastle.Asn1.X509.AlgorithmIdentifier(Org.BouncyCastle.Asn1.Oiw.OiwObjectIdentifiers.IdSha1, Org.BouncyCastle.Asn1.DerNull.Instance);
        var generator = new Org.BouncyCastle.Ocsp.OcspReqGenerator();
        generator.AddRequest(new Org.BouncyCastle.Ocsp.CertificateID(sha1, issuer, new Org.BouncyCastle.Math.BigInteger(serialHex, 16)));
        return generator.Generate().GetEncoded();
    }

    private static async Task AdminAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
