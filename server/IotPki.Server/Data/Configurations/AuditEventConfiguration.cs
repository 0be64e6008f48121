using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> b)
    {
        b.ToTable("audit_events");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).UseIdentityAlwaysColumn();
        b.Property(e => e.Action).HasMaxLength(64);
        b.Property(e => e.Actor).HasMaxLength(200);
        b.Property(e => e.SourceAddress).HasMaxLength(64);
        b.HasIndex(e => e.At);
        b.HasIndex(e => new { e.DeviceId, e.At });
    }
}
