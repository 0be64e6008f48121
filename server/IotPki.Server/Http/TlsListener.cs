using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using IotPki.Server.Ca;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace IotPki.Server.Http;

/// <summary>HTTPS listeners that ask for a client certificate in the TLS handshake and leave the decision to the
/// endpoint: EST takes bootstrap and operational certificates, the operator API operator certificates, each checked
/// against its own anchors.</summary>
public static class TlsListener
{
    private const string PurposeKey = "iotpki.listener";

    public static ListenOptions ListenWithClientCertificates(this KestrelServerOptions kestrel, string bindAddress, int port, PkiState pki, string purpose)
    {
        ListenOptions? created = null;
        kestrel.Listen(ParseAddress(bindAddress), port, listen =>
        {
            created = listen;
            listen.Protocols = HttpProtocols.Http1;
            listen.MarkPurpose(purpose);
            // Trust is decided per endpoint against explicit anchors, never the system store.
            listen.UseClientCertificateTls(pki, static (_, _, _, _) => true);
        });
        return created!;
    }

    /// <summary>Tags each connection of the listener with its purpose, for <see cref="PurposeOf"/>.</summary>
    public static void MarkPurpose(this ListenOptions listen, string purpose) =>
        listen.Use(next => connection =>
        {
            connection.Items[PurposeKey] = purpose;
            return next(connection);
        });

    /// <summary>TLS 1.2/1.3 with our server certificate, asking for a client certificate that
    /// <paramref name="decide"/> judges. SslStream builds the client chain before the callback; against our own root
    /// only (the chain policy), that is cheap and never reads the system store.</summary>
    public static void UseClientCertificateTls(this ListenOptions listen, PkiState pki, RemoteCertificateValidationCallback decide) =>
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = pki.ServerTls.Context,
                CertificateChainPolicy = pki.ClientChainPolicy.Clone(),
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = decide,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            }),
        });

    /// <summary>Which listener a request arrived on (<see cref="ListenerEndpoints.Est"/>, <see cref="ListenerEndpoints.Operator"/>).</summary>
    public static string? PurposeOf(HttpContext http) =>
        http.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(PurposeKey, out var p) == true ? p as string : null;

    public static IPAddress ParseAddress(string bindAddress) =>
        bindAddress is "*" or "0.0.0.0" ? IPAddress.Any : IPAddress.Parse(bindAddress);
}
