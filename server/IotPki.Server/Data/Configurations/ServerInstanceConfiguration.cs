using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class ServerInstanceConfiguration : IEntityTypeConfiguration<ServerInstance>
{
    public void Configure(EntityTypeBuilder<ServerInstance> b)
    {
        b.ToTable("server_instances");
        b.HasKey(i => i.Id);
        b.Property(i => i.Host).HasMaxLength(255);
        b.Property(i => i.IssuingCa).HasMaxLength(32);
        b.HasIndex(i => i.HeartbeatAt);
    }
}
