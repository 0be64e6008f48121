using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IotPki.Server.Data.Configurations;

public sealed class RenewalCampaignConfiguration : IEntityTypeConfiguration<RenewalCampaign>
{
    public void Configure(EntityTypeBuilder<RenewalCampaign> b)
    {
        b.ToTable("renewal_campaigns");
        b.HasKey(c => c.Id);
        b.Property(c => c.Id).UseIdentityAlwaysColumn();
        b.Property(c => c.Actor).HasMaxLength(200);
        b.Property(c => c.Population).HasMaxLength(200);
    }
}
