using IotPki.Identity;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Data;

public sealed class IotPkiDbContext(DbContextOptions<IotPkiDbContext> options) : DbContext(options)
{
    public DbSet<Manufacturer> Manufacturers => Set<Manufacturer>();
    public DbSet<Device> Devices => Set<Device>();
    public DbSet<CertificateRecord> Certificates => Set<CertificateRecord>();
    public DbSet<EnrollmentAttempt> EnrollmentAttempts => Set<EnrollmentAttempt>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<AuthorityRecord> Authorities => Set<AuthorityRecord>();
    public DbSet<DeviceRenewal> Renewals => Set<DeviceRenewal>();
    public DbSet<RenewalCampaign> RenewalCampaigns => Set<RenewalCampaign>();
    public DbSet<ServerInstance> Instances => Set<ServerInstance>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DeviceId>().HaveConversion<DeviceIdConverter>();
        configurationBuilder.Properties<DeviceState>().HaveConversion<DeviceStateConverter>();
        configurationBuilder.Properties<RenewalStatus>().HaveConversion<RenewalStatusConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(IotPkiDbContext).Assembly);
}
