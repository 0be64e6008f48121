using System.Security.Cryptography.X509Certificates;

namespace IotPki.Identity;

/// <summary>The SAN URI of certificates from the issuing CA: <c>spiffe://&lt;trust-domain&gt;/&lt;kind&gt;/&lt;name&gt;</c>.</summary>
public sealed record SpiffeId(string TrustDomain, CertificateKind Kind, string Name)
{
    public const string Scheme = "spiffe";

    public Uri ToUri() => new($"{Scheme}://{TrustDomain}/{Segment(Kind)}/{Name}");

    public override string ToString() => ToUri().ToString();

    public static bool TryParse(string? uri, out SpiffeId? id)
    {
        id = null;
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme != Scheme)
        {
            return false;
        }
        var parts = parsed.AbsolutePath.Trim('/').Split('/');
        if (parts.Length != 2 || !TryKind(parts[0], out var kind) || parts[1].Length == 0)
        {
            return false;
        }
        id = new SpiffeId(parsed.Host, kind, parts[1]);
        return true;
    }

    /// <summary>The first SPIFFE id of <paramref name="trustDomain"/> in the certificate's SAN URIs (claimed, not yet
    /// verified), optionally only of the given kinds.</summary>
    public static SpiffeId? InCertificate(X509Certificate2 certificate, string trustDomain, params CertificateKind[] kinds)
    {
        foreach (var uri in SubjectAlternativeNames.Uris(certificate))
        {
            if (TryParse(uri, out var id) && id!.TrustDomain == trustDomain && (kinds.Length == 0 || kinds.Contains(id.Kind)))
            {
                return id;
            }
        }
        return null;
    }

    /// <summary>The audit actor of a certificate holder: <c>device:dev-1</c>, <c>operator:alice</c>, <c>service:telemetry</c>.</summary>
    public string Actor => $"{Segment(Kind)}:{Name}";

    private static string Segment(CertificateKind kind) => kind switch
    {
        CertificateKind.Operational => "device",
        CertificateKind.Operator => "operator",
        CertificateKind.Service => "service",
        CertificateKind.ServerTls => "server",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static bool TryKind(string segment, out CertificateKind kind)
    {
        (var ok, kind) = segment switch
        {
            "device" => (true, CertificateKind.Operational),
            "operator" => (true, CertificateKind.Operator),
            "service" => (true, CertificateKind.Service),
            "server" => (true, CertificateKind.ServerTls),
            _ => (false, default),
        };
        return ok;
    }
}
