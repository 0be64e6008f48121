using IotPki.Server.Http;
using Microsoft.AspNetCore.Authentication;

namespace IotPki.Server.Operators;

/// <summary>Operators and back-end services, known by their certificates: issuance (server and CLI), and the
/// operator API's authentication, roles and route group, served only on the operator listener.</summary>
public static class OperatorsFeature
{
    public static IServiceCollection AddOperatorCertificates(this IServiceCollection services)
    {
        services.AddScoped<OperatorCertificates>();
        services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    public static IServiceCollection AddOperatorApi(this IServiceCollection services)
    {
        services.AddAuthentication(OperatorAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, OperatorAuthenticationHandler>(OperatorAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(OperatorRole.CanRead, p => p.RequireRole(OperatorRole.Viewer, OperatorRole.Admin))
            .AddPolicy(OperatorRole.CanChange, p => p.RequireRole(OperatorRole.Admin));
        services.AddOpenApi("v1");
        return services;
    }

    private const string AuthenticationMiddlewareSet = "__AuthenticationMiddlewareSet";

    /// <summary>Authentication on the operator listener, and the <c>/api/v1</c> group the features map their operator
    /// routes into. The API, its OpenAPI document and the fleet pages exist only on the operator listener; elsewhere
    /// they are not found.</summary>
    public static RouteGroupBuilder MapOperatorApi(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api") || http.Request.Path.StartsWithSegments("/openapi")
                || http.Request.Path.StartsWithSegments("/fleet"),
            branch => branch.Use(async (http, next) =>
            {
                if (await OperatorPortGate.RefusedOffOperatorListenerAsync(http))
                {
                    return;
                }
                await next(http);
            }));
        // Operator certificates are looked at on the operator listener only: an EST request pays for no chain
        // validation or database lookup it does not need.
        app.UseWhen(http => TlsListener.PurposeOf(http) == ListenerEndpoints.Operator, branch => branch.UseAuthentication());
        // A branch's UseAuthentication does not mark the application, and WebApplication would then put its own
        // authentication for every request at the very start of the pipeline: ahead of the exception handler (a
        // database outage during authentication became a 500, not a 503) and on every listener.
        ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSet] = true;
        app.UseAuthorization();
        app.MapOpenApi().RequireAuthorization(OperatorRole.CanRead);
        return app.MapGroup("/api/v1").AddEndpointFilter<NulGuard>();
    }
}
