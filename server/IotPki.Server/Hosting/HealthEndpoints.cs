using IotPki.Server.Data;
using IotPki.Server.Ca;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Hosting;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", async (IotPkiDbContext db, PkiState pki, CancellationToken ct) =>
        {
            if (!pki.IsReady)
            {
                return Results.Problem(statusCode: 503, title: "Not ready", detail: "The PKI is not loaded yet.");
            }
            try
            {
                await db.Database.ExecuteSqlRawAsync("SELECT 1", ct);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                return Results.Problem(statusCode: 503, title: "Not ready", detail: "PostgreSQL does not answer.");
            }
            return Results.Text("ready");
        });
        return app;
    }
}
