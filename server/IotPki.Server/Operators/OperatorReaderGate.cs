using IotPki.Server.Http;
using Microsoft.AspNetCore.Authentication;

namespace IotPki.Server.Operators;

/// <summary>The gate of operator-port pages outside the API's route group (the Hangfire dashboard, <c>/metrics</c>):
/// not found off the operator listener, 401 without an operator certificate, 403 for one that is neither viewer nor
/// admin.</summary>
public static class OperatorReaderGate
{
    /// <summary>True when it answered the request itself.</summary>
    public static async Task<bool> RefusedAsync(HttpContext http)
    {
        if (await OperatorPortGate.RefusedOffOperatorListenerAsync(http))
        {
            return true;
        }
        if (http.User.Identity?.IsAuthenticated != true)
        {
            await http.ChallengeAsync(OperatorAuthenticationHandler.SchemeName);
            return true;
        }
        if (!http.User.IsInRole(OperatorRole.Admin) && !http.User.IsInRole(OperatorRole.Viewer))
        {
            await http.ForbidAsync(OperatorAuthenticationHandler.SchemeName);
            return true;
        }
        return false;
    }
}
