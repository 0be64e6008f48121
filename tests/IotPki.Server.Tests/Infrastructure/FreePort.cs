using System.Net;
using System.Net.Sockets;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>A TCP port free now, for a process that must be told its port (PostgreSQL, a server run as a child
/// process): below the kernel's ephemeral range (32768-60999), so no outgoing connection takes it between tries.</summary>
public static class FreePort
{
    public static int Pick()
    {
        for (var i = 0; i < 200; i++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free TCP port below the ephemeral range");
    }
}
