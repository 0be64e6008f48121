using IotPki.Server.Data.Entities;

namespace IotPki.Server.Devices;

/// <summary>The outcome of asking <see cref="DeviceLifecycle"/> for a transition: done (the device as it is now), or
/// refused because the device is unknown or in a state the transition does not start from.</summary>
public sealed record DeviceChange(Device? Device, DeviceChangeRefusal? Refusal)
{
    public bool Done => Refusal is null;

    public static DeviceChange Unknown => new(null, DeviceChangeRefusal.UnknownDevice);
}

public enum DeviceChangeRefusal
{
    UnknownDevice,
    /// <summary>The device's state is not one the transition starts from (see <c>Device.State</c>).</summary>
    WrongState,
}
