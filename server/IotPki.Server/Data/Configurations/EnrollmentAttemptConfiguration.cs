using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class EnrollmentAttemptConfiguration : IEntityTypeConfiguration<EnrollmentAttempt>
{
    public void Configure(EntityTypeBuilder<EnrollmentAttempt> b)
    {
        b.ToTable("enrollment_attempts");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).UseIdentityAlwaysColumn();
        b.Property(e => e.Operation).HasMaxLength(32);
        b.Property(e => e.Outcome).HasMaxLength(16);
        b.Property(e => e.SourceAddress).HasMaxLength(64);
        b.HasIndex(e => new { e.DeviceId, e.At });
    }
}
