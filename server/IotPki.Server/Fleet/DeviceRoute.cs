using IotPki.Identity;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace IotPki.Server.Fleet;

/// <summary>The <c>{id}</c> of a device route, parsed at the edge, and an operator's transition on it answered the
/// one way: 200 with the new state, 404 for an unknown device (or an id that is no device id, as before ids were
/// typed), 409 when the device is in a state the transition does not start from.</summary>
public static class DeviceRoute
{
    public static DeviceId? Parse(string id) => DeviceId.TryParse(id, out var parsed) ? parsed : null;

    public static async Task<Results<Ok<StateChangeView>, ProblemHttpResult>> ChangeAsync(
        string id, HttpContext http, Func<DeviceId, string, string?, Task<DeviceChange>> change, Func<DeviceState, ProblemDetails> wrongState)
    {
        if (Parse(id) is not { } deviceId)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        var result = await change(deviceId, CallerIdentity.Actor(http.User), http.Connection.RemoteIpAddress?.ToString());
        return result.Refusal switch
        {
            null => TypedResults.Ok(new StateChangeView(deviceId, result.Device!.State)),
            DeviceChangeRefusal.UnknownDevice => TypedResults.Problem(Problems.UnknownDevice(id)),
            _ => TypedResults.Problem(wrongState(result.Device!.State)),
        };
    }
}
