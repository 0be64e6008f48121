using IotPki.Identity;

namespace IotPki.Server.Fleet;

/// <summary>The <c>{id}</c> of a device route, parsed at the edge. Not a device id: no device has it (404), as before
/// ids were typed.</summary>
public static class DeviceRoute
{
    public static DeviceId? Parse(string id) => DeviceId.TryParse(id, out var parsed) ? parsed : null;
}
