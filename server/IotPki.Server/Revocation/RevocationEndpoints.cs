using IotPki.Pki;
using IotPki.Server.Cluster;
using IotPki.Server.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Revocation;

/// <summary>The CRL distribution point and the OCSP responder written into every issued certificate:
/// <c>GET /crl/{issuer}.crl</c> (one CRL per issuing CA: <c>issuing.crl</c> for the first), <c>POST /ocsp</c> and <c>GET /ocsp/{base64}</c> (RFC 6960 appendix A), on the plain-HTTP
/// listener and on the HTTPS listeners.</summary>
public static class RevocationEndpoints
{
    public const string CrlContentType = "application/pkix-crl";
    public const string OcspRequestContentType = "application/ocsp-request";
    public const string OcspResponseContentType = "application/ocsp-response";
    private const string OcspPrefix = "/ocsp/";

    public static WebApplicationBuilder AddRevocation(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RevocationOptions>().BindConfiguration(RevocationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<CertificateStatusStore>();
        builder.Services.AddSingleton<CertificateStatusCache>();
        builder.Services.AddSingleton<IClusterNoticeHandler>(services => services.GetRequiredService<CertificateStatusCache>());
        builder.Services.AddSingleton<CrlPublisher>();
        builder.Services.AddSingleton<RevocationMetrics>();
        builder.Services.AddSingleton<OcspService>();
        builder.Services.AddSingleton<OcspSignatureAudit>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OcspSignatureAudit>());
        return builder;
    }

    public static WebApplication MapRevocation(this WebApplication app)
    {
        // The plain-HTTP listener serves CRL and OCSP only: EST, health and the operator API need TLS.
        app.Use(async (http, next) =>
        {
            if (RevocationListener.IsRevocationListener(http) && !RevocationListener.IsRevocationPath(http.Request.Path))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await next(http);
        });
        app.MapGet("/crl/{file}", GetCrl);
        app.MapPost("/ocsp", PostOcsp);
        app.MapGet("/ocsp/{**request}", GetOcsp);
        return app;
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetCrl(string file, CrlPublisher publisher, CancellationToken ct)
    {
        var crl = file.EndsWith(".crl", StringComparison.Ordinal) ? publisher.GetAsync(file[..^".crl".Length], ct) : null;
        if (crl is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such CRL",
                detail: "CRLs are published as /crl/{issuer}.crl for each issuing CA in use.");
        }
        var issued = await crl;
        return TypedResults.File(issued.Der, CrlContentType, lastModified: issued.ThisUpdate);
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PostOcsp(
        HttpContext http, OcspService ocsp, IOptions<RevocationOptions> options, CancellationToken ct)
    {
        if (!string.Equals(http.Request.ContentType?.Split(';')[0].Trim(), OcspRequestContentType, StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: $"An OCSP request is posted as {OcspRequestContentType}.");
        }
        var limit = options.Value.MaxOcspRequestBytes;
        using var body = await BoundedBody.ReadAsync(http.Request, limit, ct);
        return body is null ? TooLarge(limit) : Ocsp(await ocsp.RespondAsync(body.Memory, ct));
    }

    private static async Task<FileContentHttpResult> GetOcsp(HttpContext http, OcspService ocsp, CancellationToken ct)
    {
        var rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.Value ?? "";
        var request = OcspService.DecodeGetRequest(rawTarget, OcspPrefix);
        return Ocsp(request is null ? OcspResponder.MalformedRequest : await ocsp.RespondAsync(request, ct));
    }

    private static FileContentHttpResult Ocsp(byte[] der) => TypedResults.File(der, OcspResponseContentType);

    private static ProblemHttpResult TooLarge(int limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
            detail: $"An OCSP request is at most {limit} bytes.");
}
