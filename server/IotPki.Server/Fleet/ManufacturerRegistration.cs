using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Registers a manufacturer and its CA, the trust anchor for that manufacturer's bootstrap certificates.</summary>
public sealed class ManufacturerRegistration(IotPkiDbContext db, TimeProvider clock)
{
    public async Task<Manufacturer> RegisterAsync(string name, string caPem, DeviceIdField field, string actor, CancellationToken ct,
        string unregisteredPolicy = UnregisteredPolicy.Refuse)
    {
        if (!DeviceId.TryParse(name, out _))
        {
            throw new RegistrationException($"'{name}' is not a valid manufacturer name: use [a-z0-9][a-z0-9._-]{{2,63}}.");
        }
        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPem(caPem);
        }
        catch (CryptographicException)
        {
            throw new RegistrationException("The manufacturer CA is not a PEM certificate.");
        }
        using (ca)
        {
            if (ca.Extensions["2.5.29.19"] is not X509BasicConstraintsExtension { CertificateAuthority: true })
            {
                throw new RegistrationException("The manufacturer certificate is not a CA certificate (basicConstraints cA is not set).");
            }
            if (await db.Manufacturers.AnyAsync(m => m.Name == name, ct))
            {
                throw new RegistrationException($"A manufacturer named '{name}' is already registered.");
            }
            var now = clock.GetUtcNow();
            var manufacturer = Manufacturer.FromCa(name, ca, field, now);
            manufacturer.UnregisteredPolicy = unregisteredPolicy;
            if (await db.Manufacturers.AnyAsync(m => m.CaThumbprint == manufacturer.CaThumbprint, ct))
            {
                throw new RegistrationException("This CA certificate is already registered for another manufacturer.");
            }
            db.Manufacturers.Add(manufacturer);
            AuditLog.Add(db, now, "manufacturer.registered", actor, detail: $"{name}: {ca.Subject}");
            await db.SaveChangesAsync(ct);
            return manufacturer;
        }
    }
}

