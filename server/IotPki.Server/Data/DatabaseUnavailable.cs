using System.Net.Sockets;
using Npgsql;

namespace IotPki.Server.Data;

/// <summary>Whether a failure means PostgreSQL cannot be reached or is shutting down (a transient outage), rather than
/// a fault of the request or the code: the caller answers "retry later", never 500.</summary>
public static class DatabaseUnavailable
{
    public static bool Is(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // 08: connection exception; 57P: operator intervention (shutdown, cannot connect now); 53: out of resources.
                case PostgresException p when p.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || p.SqlState.StartsWith("57P", StringComparison.Ordinal) || p.SqlState.StartsWith("53", StringComparison.Ordinal):
                case NpgsqlException { IsTransient: true }:
                case SocketException:
                    return true;
            }
        }
        return false;
    }
}
