using System.Text.Encodings.Web;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Operators;

/// <summary>Authenticates operator API callers by their TLS client certificate: issued by our CA, unexpired, on record
/// and not revoked. Operators get their role from the certificate's OU; devices authenticate but hold no role, so
/// authorization refuses them; bootstrap and foreign certificates do not authenticate at all.</summary>
public sealed class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    PkiState pki, IotPkiDbContext db, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "OperatorCertificate";
    private const string FailureKey = "iotpki.auth.failure";

    private static readonly Func<IotPkiDbContext, string, Task<string?>> StatusBySerial =
        EF.CompileAsyncQuery((IotPkiDbContext db, string serial) =>
            db.Certificates.Where(c => c.Serial == serial).Select(c => c.Status).SingleOrDefault());

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var certificate = await Context.Connection.GetClientCertificateAsync(Context.RequestAborted);
        if (certificate is null)
        {
            return Fail("no_client_certificate", "An operator certificate is required.");
        }
        var id = SpiffeId.InCertificate(certificate, pki.Issuer.Endpoints.TrustDomain);
        if (id is null)
        {
            return Fail("not_an_operator_certificate", "The client certificate is not an operator certificate of this service (a bootstrap certificate?).");
        }
        var verdict = ChainValidator.Validate(certificate, pki.Root, pki.IssuingCertificates, clock.GetUtcNow());
        if (verdict != ChainVerdict.Valid)
        {
            return Fail("untrusted_certificate", $"The client certificate does not validate: {verdict}.");
        }
        var status = await StatusBySerial(db, CertificateIdentifiers.Serial(certificate));
        if (status != CertificateStatus.Valid)
        {
            return Fail("certificate_revoked", status is null ? "The client certificate is not on record." : "The client certificate has been revoked.");
        }
        var role = id.Kind switch
        {
            CertificateKind.Operator when OperatorRole.IsOperatorRole(CallerIdentity.OrganizationalUnit(certificate)) => CallerIdentity.OrganizationalUnit(certificate),
            CertificateKind.Service => OperatorRole.Service,
            _ => null,
        };
        return AuthenticateResult.Success(new AuthenticationTicket(CallerIdentity.ToPrincipal(id, role, certificate, SchemeName), SchemeName));
    }

    private AuthenticateResult Fail(string reason, string detail)
    {
        Context.Items[FailureKey] = (reason, detail);
        return AuthenticateResult.Fail(detail);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var (reason, detail) = Context.Items[FailureKey] as (string, string)? ?? ("no_client_certificate", "An operator certificate is required.");
        // A 401 names how to authenticate: a TLS client certificate of this service's CA (RFC 9110 §11.6.1).
        Response.Headers.WWWAuthenticate = "ClientCertificate realm=\"iotpki operator API\"";
        return RefuseAsync(StatusCodes.Status401Unauthorized, reason, detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        RefuseAsync(StatusCodes.Status403Forbidden, "forbidden",
            Context.User.IsInRole(OperatorRole.Viewer)
                ? "This action needs the admin role; the certificate holds the viewer role."
                : "This certificate does not hold an operator role.");

    private async Task RefuseAsync(int status, string reason, string detail)
    {
        AuditLog.Add(db, clock.GetUtcNow(), "api.refused", CallerIdentity.Actor(Context.User),
            sourceAddress: Context.Connection.RemoteIpAddress?.ToString(),
            detail: $"{Context.Request.Method} {Context.Request.Path}: {reason}");
        await db.SaveChangesAsync(Context.RequestAborted);

        Response.StatusCode = status;
        Response.ContentType = "application/problem+json";
        await Response.WriteAsync(JsonSerializer.Serialize(new
        {
            type = "about:blank",
            title = status == 401 ? "Unauthorized" : "Forbidden",
            status,
            detail,
            reason,
        }), Context.RequestAborted);
    }
}
