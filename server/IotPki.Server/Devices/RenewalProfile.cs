namespace IotPki.Server.Devices;

/// <summary>The certificate profile a device's manufacturer sets, the service's defaults where it sets none.</summary>
public sealed record RenewalProfile(TimeSpan Lifetime, double WindowStart, double AtRisk);
