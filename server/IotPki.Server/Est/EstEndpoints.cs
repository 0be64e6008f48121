using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Http;

namespace IotPki.Server.Est;

/// <summary>RFC 7030 under <c>/.well-known/est/</c>, and the same under <c>/.well-known/est/&lt;label&gt;/</c>.</summary>
public static class EstEndpoints
{
    private static readonly string CsrAttrsBase64 = Convert.ToBase64String(CsrAttributes.Encode()) + "\n";

    /// <summary>EST lives on the EST listener only: on the operator and plain-HTTP ports it is not found.</summary>
    public static IEndpointRouteBuilder MapEst(this IEndpointRouteBuilder app)
    {
        Map(app.MapGroup("/.well-known/est").AddEndpointFilter(OnEstListenerOnly));
        Map(app.MapGroup("/.well-known/est/{label:regex(^[a-zA-Z0-9._-]{{1,64}}$)}").AddEndpointFilter(OnEstListenerOnly));
        return app;
    }

    private static ValueTask<object?> OnEstListenerOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        TlsListener.PurposeOf(context.HttpContext) == ListenerEndpoints.Est ? next(context) : ValueTask.FromResult<object?>(Results.NotFound());

    private static void Map(RouteGroupBuilder est)
    {
        est.MapGet("/cacerts", (HttpContext http, PkiState pki) => Base64(http, pki.CaCertsBase64, EstContentTypes.CaCerts));
        est.MapGet("/csrattrs", (HttpContext http) => Base64(http, CsrAttrsBase64, EstContentTypes.CsrAttrs));
        est.MapPost("/simpleenroll", (HttpContext http, EnrollmentService enrollment, CancellationToken ct) =>
            enrollment.HandleAsync(EstOperation.SimpleEnroll, http, ct));
        est.MapPost("/simplereenroll", (HttpContext http, EnrollmentService enrollment, CancellationToken ct) =>
            enrollment.HandleAsync(EstOperation.SimpleReenroll, http, ct));
        est.MapPost("/serverkeygen", (HttpContext http, EnrollmentService enrollment, CancellationToken ct) =>
            enrollment.HandleAsync(EstOperation.ServerKeyGen, http, ct));
    }

    private static IResult Base64(HttpContext http, string body, string contentType)
    {
        http.Response.Headers["Content-Transfer-Encoding"] = "base64";
        return Results.Text(body, contentType);
    }
}
