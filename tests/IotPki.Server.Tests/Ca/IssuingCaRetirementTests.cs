using System.Net;
using IotPki.Server.Ca;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>An earlier issuing CA is retired only once the last certificate it signed has expired: then its key is
/// destroyed and it is no longer published.</summary>
public sealed class IssuingCaRetirementTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_previous_CA_is_kept_while_a_certificate_of_it_is_valid_and_retired_after()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "retire-dev-01");
        var oldKeyId = IotPki.Pki.CertificateIdentifiers.SubjectKeyId(server.Pki.Issuing);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync("test", CancellationToken.None);
        }
        var retirement = server.Services.GetRequiredService<IssuingCaRetirement>();
        // Its last certificate: the device's, an operator's or the server's own TLS certificate, whichever lives longest.
        var lastExpiry = new DateTimeOffset(await server.Database.ScalarAsync<DateTime>(
            $"SELECT max(\"NotAfter\") FROM certificates WHERE \"IssuerKeyId\" IS NULL OR \"IssuerKeyId\" = '{oldKeyId}'"), TimeSpan.Zero);

        Assert.Empty(await retirement.RetireExpiredAsync(DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Empty(await retirement.RetireExpiredAsync(lastExpiry.AddMinutes(-1), CancellationToken.None));
        Assert.Equal(2, server.Pki.Authorities.Count);

        Assert.Equal([AuthorityRole.Issuing], await retirement.RetireExpiredAsync(lastExpiry.AddMinutes(1), CancellationToken.None));

        var record = await server.WithDbAsync(db => db.Authorities.SingleAsync(a => a.Role == AuthorityRole.Issuing));
        Assert.Equal("", record.KeyReference);
        Assert.NotNull(record.RetiredAt);
        Assert.Single(server.Pki.Authorities);
        Assert.Equal(2, (await File.ReadAllTextAsync(server.CaBundlePath)).Split("BEGIN CERTIFICATE").Length - 1);
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        using (var crl = await http.GetAsync("/crl/issuing.crl"))
        {
            Assert.Equal(HttpStatusCode.NotFound, crl.StatusCode);
            Assert.Equal("application/problem+json", crl.Content.Headers.ContentType?.MediaType);
        }
        var retiredRows = await server.WithDbAsync(db => db.AuditEvents.Where(a => a.Action == "ca.retired").Select(a => a.Detail).ToListAsync());
        Assert.Single(retiredRows, d => d!.StartsWith("issuing (", StringComparison.Ordinal) && d.EndsWith("key destroyed in the database store", StringComparison.Ordinal));
        Assert.Empty(await retirement.RetireExpiredAsync(lastExpiry.AddMinutes(1), CancellationToken.None));
    }
}
