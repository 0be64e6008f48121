using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Agent.Tests.Infrastructure;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Agent.Tests;

/// <summary>The agent library against the real server on loopback and a real PostgreSQL, with 3-minute certificates.</summary>
public sealed class AgentLifecycleTests(ShortLivedServerFixture server) : IClassFixture<ShortLivedServerFixture>
{
    [Fact]
    public async Task First_enrollment_writes_a_0600_key_and_a_certificate_that_chains_to_the_service()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-first-01");

        var serial = await device.RunUntilReadyAsync(device.Options());

        using var identity = device.AssertUsableIdentity();
        Assert.Equal(serial, identity.Serial);
        Assert.Equal("CN=agent-first-01", identity.Certificate.Subject);
        var directory = Path.Combine(device.StateDirectory, "identities", serial);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, IdentityStore.KeyFile)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, IdentityStore.CertificateFile)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(device.StateDirectory));
        Assert.Empty(Directory.EnumerateFiles(device.StateDirectory, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal("valid", await server.Database.ScalarAsync<string>("SELECT \"Status\" FROM certificates WHERE \"Serial\" = $1", serial));
        Assert.DoesNotContain(device.Log.Lines, l => l.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_agent_rotates_at_the_configured_fraction_of_the_lifetime_and_retires_the_old_identity()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-rotate-01");
        var first = await device.RunUntilReadyAsync(device.Options());
        DateTimeOffset due;
        using (var enrolled = device.AssertUsableIdentity())
        {
            // 3 minutes from issuance; the server backdates notBefore by its clock-skew allowance.
            Assert.Equal(TimeSpan.FromMinutes(3) + CertificateProfile.ClockSkewAllowance, enrolled.Certificate.NotAfter - enrolled.Certificate.NotBefore);
            var notBefore = new DateTimeOffset(enrolled.Certificate.NotBefore.ToUniversalTime());
            due = notBefore + (new DateTimeOffset(enrolled.Certificate.NotAfter.ToUniversalTime()) - notBefore) * 0.65;
        }

        // Renewal at 65 % of the lifetime (jitter 0 here): a few seconds after issuance with these short certificates.
        var started = DateTimeOffset.UtcNow;
        var second = await device.RunUntilReadyAsync(device.Options(renewalFraction: 0.65), notSerial: first);

        Assert.True(DateTimeOffset.UtcNow >= due, $"rotated at {DateTimeOffset.UtcNow:O}, before the renewal instant {due:O}");
        Assert.NotEqual(first, second);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(30));
        using var renewed = device.AssertUsableIdentity();
        Assert.Equal(second, renewed.Serial);
        Assert.False(Directory.Exists(Path.Combine(device.StateDirectory, "identities", first)), "the old identity is retired once the new one is proven");
        Assert.False(File.Exists(Path.Combine(device.StateDirectory, IdentityStore.PendingPointer)));
        Assert.True(device.Log.Contains("renewal time reached"));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE \"Action\" = 'certificate.renewed' AND \"DeviceId\" = $1", "agent-rotate-01"));
    }

    [Fact]
    public async Task A_certificate_that_expired_while_offline_falls_back_to_bootstrap_enrollment_when_the_server_allows_it()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-offline-01");
        var first = await device.RunUntilReadyAsync(device.Options());
        ReplaceCurrentWithExpiredCertificate(device, first);
        await server.Database.ExecuteAsync("UPDATE devices SET \"ReprovisionAllowed\" = true WHERE \"Id\" = $1", "agent-offline-01");

        var second = await device.RunUntilReadyAsync(device.Options(), notSerial: first);

        Assert.NotEqual(first, second);
        using var identity = device.AssertUsableIdentity();
        Assert.Equal(second, identity.Serial);
        Assert.True(device.Log.Contains("while the device was offline: falling back to bootstrap enrollment"), device.Log.ToString());
    }

    [Fact]
    public async Task A_bootstrap_fallback_the_server_refuses_is_logged_with_the_servers_reason_and_retried_with_backoff()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-offline-02");
        var first = await device.RunUntilReadyAsync(device.Options());
        ReplaceCurrentWithExpiredCertificate(device, first);

        var agent = device.NewAgent(device.Options());
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = agent.RunAsync(stop.Token);
        int Refusals() => device.Log.Lines.Count(l => l.Contains("EST simpleenroll refused (403 already_enrolled)", StringComparison.Ordinal));
        // The window opens at the first refusal, so a slow first attempt (a loaded machine) does not shrink it.
        while (Refusals() == 0 && !running.IsCompleted)
        {
            await Task.Delay(20);
        }
        stop.CancelAfter(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        Assert.InRange(Refusals(), 2, 9); // 100 ms doubling to 2 s: a handful in 3 s after the first, not a flood
    }

    [Fact]
    public async Task A_revoked_device_stops_its_agent_with_a_clear_message_instead_of_retrying()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-revoked-01");
        var serial = await device.RunUntilReadyAsync(device.Options());
        await server.Database.ExecuteAsync("UPDATE certificates SET \"Status\" = 'revoked', \"RevokedAt\" = now() WHERE \"DeviceId\" = $1", "agent-revoked-01");
        await server.Database.ExecuteAsync("UPDATE devices SET \"State\" = 'revoked' WHERE \"Id\" = $1", "agent-revoked-01");

        var agent = device.NewAgent(device.Options(renewalFraction: 0.0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stopped = await Assert.ThrowsAsync<AgentStoppedException>(() => agent.RunAsync(timeout.Token));

        Assert.Contains("certificate_revoked", stopped.Message);
        Assert.Contains("re-provision", stopped.Message);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM audit_events WHERE \"Action\" = 'enrollment.refused' AND \"Detail\" LIKE '%certificate_revoked%'"));
        Assert.Equal(serial, new IdentityStore(device.StateDirectory, device.Log).CurrentSerial);
    }

    /// <summary>The device was switched off past its certificate's end: the same key, a certificate from the issuing CA
    /// whose validity ended an hour ago (the server's clock is not touched).</summary>
    private void ReplaceCurrentWithExpiredCertificate(AgentHarness device, string serial)
    {
        var directory = Path.Combine(device.StateDirectory, "identities", serial);
        using var identity = DeviceIdentity.FromPem(File.ReadAllText(Path.Combine(directory, IdentityStore.KeyFile)),
            File.ReadAllText(Path.Combine(directory, IdentityStore.CertificateFile)), File.ReadAllText(Path.Combine(directory, IdentityStore.ChainFile)));
        var request = new CertificateRequest(identity.Certificate.SubjectName, identity.Key, HashAlgorithmName.SHA256);
        foreach (var extension in identity.Certificate.Extensions)
        {
            request.CertificateExtensions.Add(extension);
        }
        var ca = server.Pki.Issuer.IssuingCa;
        var notAfter = DateTimeOffset.UtcNow.AddHours(-1);
        using var expired = request.Create(ca.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(ca.Key),
            notAfter.AddMinutes(-3), notAfter, SerialNumber.NewSerial());
        var newSerial = expired.SerialNumber.ToLowerInvariant();
        var newDirectory = Path.Combine(device.StateDirectory, "identities", newSerial);
        Directory.Move(directory, newDirectory);
        File.WriteAllText(Path.Combine(newDirectory, IdentityStore.CertificateFile), expired.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(device.StateDirectory, IdentityStore.CurrentPointer), newSerial + "\n");
    }
}
