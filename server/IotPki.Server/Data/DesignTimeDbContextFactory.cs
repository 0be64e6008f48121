using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace IotPki.Server.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a database or the host.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<IotPkiDbContext>
{
    public IotPkiDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<IotPkiDbContext>().UseNpgsql("Host=localhost;Database=iotpki_design").Options);
}
