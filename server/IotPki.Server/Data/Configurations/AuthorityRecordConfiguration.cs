using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class AuthorityRecordConfiguration : IEntityTypeConfiguration<AuthorityRecord>
{
    public void Configure(EntityTypeBuilder<AuthorityRecord> b)
    {
        b.ToTable("authorities");
        b.HasKey(a => a.Role);
        b.Property(a => a.Role).HasMaxLength(32);
    }
}
