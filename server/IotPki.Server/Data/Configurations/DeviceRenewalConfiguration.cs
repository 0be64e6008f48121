using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class DeviceRenewalConfiguration : IEntityTypeConfiguration<DeviceRenewal>
{
    public void Configure(EntityTypeBuilder<DeviceRenewal> b)
    {
        b.ToTable("device_renewals");
        b.HasKey(r => r.DeviceId);
        b.Property(r => r.DeviceId).HasMaxLength(64);
        b.Property(r => r.CertificateSerial).HasMaxLength(40);
        b.Property(r => r.Status).HasMaxLength(16);
        b.HasOne<Device>().WithOne().HasForeignKey<DeviceRenewal>(r => r.DeviceId).OnDelete(DeleteBehavior.Cascade);
        // The planner's three scans, each a range over its own index: due slots, at-risk, expired.
        b.HasIndex(r => new { r.Status, r.SlotAt });
        b.HasIndex(r => new { r.Status, r.AtRiskAt });
        b.HasIndex(r => new { r.Status, r.NotAfter });
        b.HasIndex(r => r.CampaignId).HasFilter("\"CampaignId\" IS NOT NULL");
    }
}
