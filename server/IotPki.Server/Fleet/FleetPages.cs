using IotPki.Server.Data;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Mvc.Filters;

namespace IotPki.Server.Fleet;

/// <summary>The operators' web pages under <c>/fleet</c> (Razor Pages, server-rendered), on the operator listener
/// behind the same client certificates and roles as <c>/api/v1</c>: a viewer reads, an admin changes. Every form
/// carries an anti-forgery token; a POST without a valid one is refused and audited.</summary>
public static class FleetPages
{
    public const string PathPrefix = "/fleet";

    public static IServiceCollection AddFleetPages(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Fleet/Pages";
            o.Conventions.AuthorizeFolder("/", OperatorRole.CanRead);
        })
            // The pages are compiled into this assembly, which is not the entry assembly when a test hosts the server.
            .AddApplicationPart(typeof(FleetPages).Assembly)
            .AddMvcOptions(o => o.Filters.Add<AntiforgeryRefusalAudit>());
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "iotpki-antiforgery";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        return services;
    }

    public static WebApplication MapFleetPages(this WebApplication app)
    {
        app.MapRazorPages();
        app.MapFleetEvents();
        return app;
    }

    /// <summary>A form posted without this session's anti-forgery token (a forged cross-site POST, or a replay) is a
    /// refusal like any other: an audit row, then a 400 problem.</summary>
    private sealed class AntiforgeryRefusalAudit(IotPkiDbContext db, TimeProvider clock) : IAsyncAlwaysRunResultFilter
    {
        public async Task OnResultExecutionAsync(ResultExecutingContext context, ResultExecutionDelegate next)
        {
            if (context.Result is Microsoft.AspNetCore.Mvc.Core.Infrastructure.IAntiforgeryValidationFailedResult)
            {
                var http = context.HttpContext;
                AuditLog.Add(db, clock.GetUtcNow(), "page.refused", CallerIdentity.Actor(http.User),
                    sourceAddress: http.Connection.RemoteIpAddress?.ToString(),
                    detail: $"{http.Request.Method} {http.Request.Path}: antiforgery_token_invalid");
                await db.SaveChangesAsync(http.RequestAborted);
                context.Result = new Microsoft.AspNetCore.Mvc.ObjectResult(new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "Bad request",
                    Detail = "The form's anti-forgery token is missing or not this session's: reload the page and submit again.",
                    Extensions = { ["reason"] = "antiforgery_token_invalid" },
                }) { StatusCode = StatusCodes.Status400BadRequest, ContentTypes = { "application/problem+json" } };
            }
            await next();
        }
    }
}
