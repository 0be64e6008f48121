namespace IotPki.Server.Http;

/// <summary>The gate of the operator port's routes. Off the operator listener they are not found. And it refuses a
/// state-changing request sent by a browser on behalf of another site. The operator listener's only
/// credential is the client certificate, which a browser presents by itself to any page that posts a form here: so a
/// POST, PUT, PATCH or DELETE with a foreign <c>Origin</c> (or <c>Sec-Fetch-Site: cross-site</c>) is refused. Clients
/// that are not browsers (curl, the admin CLI) send neither header and are not affected.</summary>
public static class OperatorPortGate
{
    public static bool IsCrossSite(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method))
        {
            return false;
        }
        if (request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site")
        {
            return true;
        }
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }
        return !Uri.TryCreate(origin, UriKind.Absolute, out var from)
            || !string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            || from.Scheme != request.Scheme;
    }

    /// <summary>The gate of every operator-port route (API, OpenAPI, dashboards): not found on another listener, and a
    /// cross-site state change refused. True when it answered the request itself.</summary>
    public static async Task<bool> RefusedOffOperatorListenerAsync(HttpContext http)
    {
        if (TlsListener.PurposeOf(http) != ListenerEndpoints.Operator)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return true;
        }
        if (IsCrossSite(http.Request))
        {
            await RefuseAsync(http);
            return true;
        }
        return false;
    }

    public static Task RefuseAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
            detail: "A state-changing request from another site is refused.",
            extensions: new Dictionary<string, object?> { ["reason"] = "cross_site_request" }).ExecuteAsync(http);
    }
}
