using IotPki.Server.Hosting;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Authentication;

namespace IotPki.Server.Fleet;

/// <summary>The operator REST API under <c>/api/v1</c>, served only on the operator listener, authenticated by
/// operator certificates.</summary>
public static class FleetApi
{
    public static WebApplicationBuilder AddFleetApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<OperatorOptions>().ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddAuthentication(OperatorAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, OperatorAuthenticationHandler>(OperatorAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(OperatorRole.CanRead, p => p.RequireRole(OperatorRole.Viewer, OperatorRole.Admin))
            .AddPolicy(OperatorRole.CanChange, p => p.RequireRole(OperatorRole.Admin));
        builder.Services.AddOpenApi("v1");
        return builder;
    }

    public static WebApplication MapFleetApi(this WebApplication app)
    {
        // The API and its document exist only on the operator listener; on the EST port they are not found.
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api") || http.Request.Path.StartsWithSegments("/openapi"),
            branch => branch.Use(async (http, next) =>
            {
                if (TlsListener.PurposeOf(http) != ListenerEndpoints.Operator)
                {
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                await next(http);
            }));
        app.UseAuthentication();
        app.UseAuthorization();

        var api = app.MapGroup("/api/v1");
        api.MapManufacturers();
        api.MapDevices();
        api.MapEnrollments();
        api.MapAudit();
        api.MapGet("/broker", (Broker.BrokerMetrics metrics) => TypedResults.Ok(metrics.Snapshot()))
            .WithTags("Broker").RequireAuthorization(OperatorRole.CanRead);
        app.MapOpenApi().RequireAuthorization(OperatorRole.CanRead);
        return app;
    }
}
