using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Operators;

/// <summary>Who called the operator API, as read from a validated client certificate.</summary>
public static class CallerIdentity
{
    public const string ActorClaim = "iotpki.actor";
    public const string SerialClaim = "iotpki.serial";

    public static ClaimsPrincipal ToPrincipal(SpiffeId id, string? role, X509Certificate2 certificate, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, id.Name),
            new(ActorClaim, id.Actor),
            new(SerialClaim, CertificateIdentifiers.Serial(certificate)),
        };
        if (role is not null)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    /// <summary>"operator:alice", "service:telemetry", "device:dev-1" — the actor of audit rows.</summary>
    public static string Actor(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirstValue(ActorClaim) ?? "anonymous" : "anonymous";

    public static string? OrganizationalUnit(X509Certificate2 certificate) =>
        SubjectAttribute.Find(certificate.SubjectName, SubjectAttribute.OrganizationalUnit);
}
