using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class CertificateRecordConfiguration : IEntityTypeConfiguration<CertificateRecord>
{
    public void Configure(EntityTypeBuilder<CertificateRecord> b)
    {
        b.ToTable("certificates");
        b.HasKey(c => c.Serial);
        b.Property(c => c.Serial).HasMaxLength(40);
        b.Property(c => c.Kind).HasMaxLength(16);
        b.Property(c => c.Status).HasMaxLength(16);
        b.Property(c => c.Thumbprint).HasMaxLength(64);
        b.Property(c => c.IssuerKeyId).HasMaxLength(64);
        b.HasIndex(c => c.Thumbprint).IsUnique();
        b.HasIndex(c => new { c.DeviceId, c.NotAfter });
        b.HasIndex(c => c.NotAfter);
        b.HasIndex(c => c.RevokedAt).HasFilter("\"RevokedAt\" IS NOT NULL");
        b.HasOne<Device>().WithMany().HasForeignKey(c => c.DeviceId).OnDelete(DeleteBehavior.Restrict);
    }
}
