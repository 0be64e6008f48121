using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> b)
    {
        b.ToTable("devices");
        b.HasKey(d => d.Id);
        b.Property(d => d.Id).HasMaxLength(64);
        b.Property(d => d.State).HasMaxLength(16);
        b.Property(d => d.BootstrapThumbprint).HasMaxLength(64);
        b.HasOne(d => d.Manufacturer).WithMany().HasForeignKey(d => d.ManufacturerId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(d => new { d.ManufacturerId, d.Id });
        b.HasIndex(d => new { d.State, d.Id });
        b.HasIndex(d => d.LastSeenAt);
        b.HasIndex(d => d.InstanceId).HasFilter("\"InstanceId\" IS NOT NULL");
    }
}
