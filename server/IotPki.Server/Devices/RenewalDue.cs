namespace IotPki.Server.Devices;

/// <summary>When a device is due to be asked to renew, in SQL over <c>device_renewals r</c> joined to its active
/// <c>devices d</c>, with parameters <c>@now</c> and <c>@reask</c>: its slot has come and it was not asked in this
/// cycle, or it was asked a while ago (a quarter of its window at most) and has neither renewed nor expired, or it
/// became at risk without ever being asked (it was offline at its slot).
/// The planner pages with it and the ask claims with it, so a row is claimed once whoever asks.</summary>
public static class RenewalDue
{
    public const string Predicate = """
        d."State" = 'active' AND (
            (r."Status" IN ('scheduled', 'renewed') AND r."SlotAt" <= @now)
            OR (r."Status" IN ('asked', 'at-risk') AND r."NotAfter" > @now
                AND (r."AskedAt" IS NULL OR r."AskedAt" + LEAST(@reask, (r."AtRiskAt" - r."WindowOpensAt") / 4) <= @now)))
        """;
}
