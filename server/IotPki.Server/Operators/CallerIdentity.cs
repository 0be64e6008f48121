using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;

namespace IotPki.Server.Operators;

/// <summary>Who called the operator API, as read from a validated client certificate.</summary>
public static class CallerIdentity
{
    public const string KindClaim = "iotpki.kind";
    public const string SerialClaim = "iotpki.serial";

    public static ClaimsPrincipal ToPrincipal(SpiffeId id, string? role, X509Certificate2 certificate, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, id.Name),
            new(KindClaim, id.Kind.ToString().ToLowerInvariant()),
            new(SerialClaim, certificate.SerialNumber.ToLowerInvariant()),
        };
        if (role is not null)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    /// <summary>"operator:alice", "service:telemetry", "device:dev-1" — the actor of audit rows.</summary>
    public static string Actor(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? $"{user.FindFirstValue(KindClaim)}:{user.Identity.Name}" : "anonymous";

    public static string? OrganizationalUnit(X509Certificate2 certificate)
    {
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == "2.5.4.11")
            {
                return rdn.GetSingleElementValue();
            }
        }
        return null;
    }
}
