using IotPki.Identity;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace IotPki.Server.Data;

/// <summary>A device id column holds the id's text; what is read back was valid when written.</summary>
public sealed class DeviceIdConverter() : ValueConverter<DeviceId, string>(id => id.Value, text => DeviceId.Parse(text));

/// <summary>A device state column holds the state's lower-case name.</summary>
public sealed class DeviceStateConverter() : ValueConverter<DeviceState, string>(state => state.Name(), name => DeviceStateNames.Parse(name));

/// <summary>A renewal status column holds the status's name (<c>at-risk</c>).</summary>
public sealed class RenewalStatusConverter() : ValueConverter<RenewalStatus, string>(status => status.Name(), name => RenewalStatusNames.Parse(name));
