using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class ManufacturerConfiguration : IEntityTypeConfiguration<Manufacturer>
{
    public void Configure(EntityTypeBuilder<Manufacturer> b)
    {
        b.ToTable("manufacturers");
        b.HasKey(m => m.Id);
        b.Property(m => m.Name).HasMaxLength(64);
        b.HasIndex(m => m.Name).IsUnique();
        b.HasIndex(m => m.CaThumbprint).IsUnique();
        b.HasIndex(m => m.CaKeyId);
        b.Property(m => m.DeviceIdField).HasMaxLength(16);
        b.Property(m => m.UnregisteredPolicy).HasMaxLength(16).HasDefaultValue(UnregisteredPolicy.Refuse);
    }
}
