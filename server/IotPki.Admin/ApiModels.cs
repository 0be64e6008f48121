namespace IotPki.Admin;

// The operator API's JSON shapes, as this client reads them.
public sealed record DeviceRow(string Id, string Manufacturer, string State, DateTimeOffset RegisteredAt, DateTimeOffset? EnrolledAt,
    DateTimeOffset? LastSeenAt, bool Online, DateTimeOffset? CertificateExpiresAt, string? Renewal);
public sealed record CertificateRow(string Serial, string Kind, string Status, DateTimeOffset NotBefore, DateTimeOffset NotAfter,
    DateTimeOffset IssuedAt, DateTimeOffset? RevokedAt, int? RevocationReason, string Thumbprint);
public sealed record DeviceDetail(DeviceRow Device, string? BootstrapThumbprint, List<CertificateRow> Certificates);
public sealed record PageOf<T>(List<T> Items, string? Next);
public sealed record ImportResult(int Added, int AlreadyRegistered, List<string> Errors);
public sealed record AuditRow(long Id, DateTimeOffset At, string Action, string Actor, string? SourceAddress, string? DeviceId, string? Detail);
public sealed record Problem(string? Title, string? Detail, int? Status, string? Reason);
public sealed record CampaignRow(long Id, string Population, DateTimeOffset StartedAt, TimeSpan Within, string StartedBy,
    int Devices, int Asked, int Renewed, int AtRiskOrExpired, bool Done);
public sealed record ManufacturerRow(int Id, string Name, string DeviceIdField, string UnregisteredPolicy, string CaThumbprint,
    DateTimeOffset CreatedAt, TimeSpan? OperationalLifetime, double? RenewalWindowStart, double? RenewalAtRisk, bool RequireProofOfPossession);

public sealed record RenewRow(string Id, string Topic, bool Online);
