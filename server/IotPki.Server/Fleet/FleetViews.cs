using System.Linq.Expressions;
using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

public sealed record DeviceView(DeviceId Id, string Manufacturer, DeviceState State, DateTimeOffset RegisteredAt, DateTimeOffset? EnrolledAt,
    DateTimeOffset? LastSeenAt, bool Online, DateTimeOffset? CertificateExpiresAt, RenewalStatus? Renewal)
{
    public static Expression<Func<Device, DeviceView>> From(IQueryable<CertificateRecord> certificates, IQueryable<DeviceRenewal> renewals) => d => new DeviceView(
        d.Id, d.Manufacturer!.Name, d.State, d.RegisteredAt, d.EnrolledAt, d.LastSeenAt, d.Online,
        certificates.Where(c => c.DeviceId == d.Id && c.Status == CertificateStatus.Valid).Max(c => (DateTimeOffset?)c.NotAfter),
        renewals.Where(r => r.DeviceId == d.Id).Select(r => (RenewalStatus?)r.Status).FirstOrDefault());
}

/// <summary>A device's renewal cycle as the server plans it.</summary>
public sealed record RenewalView(RenewalStatus Status, string CertificateSerial, DateTimeOffset WindowOpensAt, DateTimeOffset SlotAt,
    DateTimeOffset AtRiskAt, DateTimeOffset NotAfter, DateTimeOffset? AskedAt, int AskCount, DateTimeOffset? RenewedAt, long? CampaignId)
{
    public static readonly Expression<Func<DeviceRenewal, RenewalView>> FromEntity = r => new RenewalView(
        r.Status, r.CertificateSerial, r.WindowOpensAt, r.SlotAt, r.AtRiskAt, r.NotAfter, r.AskedAt, r.AskCount, r.RenewedAt, r.CampaignId);
}

public sealed record CertificateView(string Serial, string Kind, string Status, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
    DateTimeOffset IssuedAt, DateTimeOffset? RevokedAt, int? RevocationReason, string Thumbprint)
{
    public static readonly Expression<Func<CertificateRecord, CertificateView>> FromEntity = c => new CertificateView(
        c.Serial, c.Kind, c.Status, c.NotBefore, c.NotAfter, c.IssuedAt, c.RevokedAt, c.RevocationReason, c.Thumbprint);
}

public sealed record DeviceDetailView(DeviceView Device, string? BootstrapThumbprint, IReadOnlyList<CertificateView> Certificates, RenewalView? Renewal)
{
    /// <summary>The device, its certificates newest first and its renewal cycle; null for an unknown device.</summary>
    public static async Task<DeviceDetailView?> LoadAsync(IotPkiDbContext db, DeviceId deviceId, CancellationToken ct)
    {
        var device = await db.Devices.AsNoTracking().Where(d => d.Id == deviceId).Select(DeviceView.From(db.Certificates, db.Renewals)).SingleOrDefaultAsync(ct);
        if (device is null)
        {
            return null;
        }
        var bootstrap = await db.Devices.Where(d => d.Id == deviceId).Select(d => d.BootstrapThumbprint).SingleAsync(ct);
        var certificates = await db.Certificates.AsNoTracking().Where(c => c.DeviceId == deviceId)
            .OrderByDescending(c => c.IssuedAt).Select(CertificateView.FromEntity).ToListAsync(ct);
        var renewal = await db.Renewals.AsNoTracking().Where(r => r.DeviceId == deviceId).Select(RenewalView.FromEntity).SingleOrDefaultAsync(ct);
        return new DeviceDetailView(device, bootstrap, certificates, renewal);
    }
}

/// <param name="OperationalLifetime">The manufacturer's certificate profile; null fields take the service's defaults.</param>
public sealed record ManufacturerView(int Id, string Name, string DeviceIdField, string UnregisteredPolicy, string CaThumbprint, DateTimeOffset CreatedAt,
    TimeSpan? OperationalLifetime, double? RenewalWindowStart, double? RenewalAtRisk, bool RequireProofOfPossession)
{
    public static readonly Expression<Func<Manufacturer, ManufacturerView>> FromEntity = m => new ManufacturerView(
        m.Id, m.Name, m.DeviceIdField, m.UnregisteredPolicy, m.CaThumbprint, m.CreatedAt, m.OperationalLifetime, m.RenewalWindowStart, m.RenewalAtRisk, m.RequireProofOfPossession);

    private static readonly Func<Manufacturer, ManufacturerView> Compiled = FromEntity.Compile();

    public static ManufacturerView Of(Manufacturer m) => Compiled(m);
}

public sealed record AuditEventView(long Id, DateTimeOffset At, string Action, string Actor, string? SourceAddress, DeviceId? DeviceId, string? Detail)
{
    public static readonly Expression<Func<AuditEvent, AuditEventView>> FromEntity = a => new AuditEventView(
        a.Id, a.At, a.Action, a.Actor, a.SourceAddress, a.DeviceId, a.Detail);
}

/// <summary>One page of a keyset-paged list: pass <see cref="Next"/> as <c>after</c> for the following page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

public sealed record RegisterDeviceRequest(string Serial, string Manufacturer);
public sealed record RegisterManufacturerRequest(string Name, string CaCertificatePem, string? DeviceIdField, string? UnregisteredPolicy);
public sealed record RevokeDeviceRequest(string? Reason);
public sealed record ImportResultView(int Added, int AlreadyRegistered, IReadOnlyList<string> Errors);
public sealed record StateChangeView(DeviceId Id, DeviceState State);

/// <summary>The renew command was announced; <c>Online</c> says whether the device was connected to receive it.</summary>
public sealed record RenewRequestedView(DeviceId Id, string Topic, bool Online);
