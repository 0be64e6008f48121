using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace IotPki.Server.Http;

/// <summary>The server's Kestrel listeners by purpose; after start, each one's bound endpoint (port 0 resolved).</summary>
public sealed class ListenerEndpoints
{
    private readonly Dictionary<string, ListenOptions> _listeners = [];

    public const string Est = "est";
    public const string Operator = "operator";
    public const string Mqtt = "mqtt";

    internal void Register(string purpose, ListenOptions options) => _listeners[purpose] = options;

    public IPEndPoint? Get(string purpose) => _listeners.TryGetValue(purpose, out var o) ? o.IPEndPoint : null;

    /// <summary>An https (or http) URI for the listener, with the loopback name "localhost" when bound to any address.</summary>
    public Uri Uri(string purpose, string scheme = "https")
    {
        var endpoint = Get(purpose) ?? throw new InvalidOperationException($"No {purpose} listener.");
        var host = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any) ? "localhost" : endpoint.Address.ToString();
        return new Uri($"{scheme}://{host}:{endpoint.Port}/");
    }
}
