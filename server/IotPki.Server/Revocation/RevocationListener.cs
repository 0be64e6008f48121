using IotPki.Server.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace IotPki.Server.Revocation;

/// <summary>The plain-HTTP listener of CRL and OCSP (<c>Pki:HttpPort</c>, on <c>Est:BindAddress</c>). Everything but
/// <c>/crl</c> and <c>/ocsp</c> is not found there.</summary>
public static class RevocationListener
{
    public const string Name = "http";
    private const string MarkerKey = "iotpki.revocation-http";

    public static void ListenForRevocation(this KestrelServerOptions kestrel, IConfiguration configuration, string bindAddress, ListenerEndpoints listeners)
    {
        var options = configuration.GetSection(RevocationOptions.Section).Get<RevocationOptions>() ?? new RevocationOptions();
        kestrel.Listen(TlsListener.ParseAddress(bindAddress), options.HttpPort, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => connection =>
            {
                connection.Items[MarkerKey] = true;
                return next(connection);
            });
            listeners.Register(Name, listen);
        });
    }

    public static bool IsRevocationListener(HttpContext http) =>
        http.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items.ContainsKey(MarkerKey) == true;

    public static bool IsRevocationPath(PathString path) =>
        path.StartsWithSegments("/crl") || path.StartsWithSegments("/ocsp");
}
