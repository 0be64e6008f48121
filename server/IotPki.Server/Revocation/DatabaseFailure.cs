namespace IotPki.Server.Revocation;

/// <summary>PostgreSQL is unreachable or dropped the connection (EF Core wraps transient Npgsql failures in an
/// <see cref="InvalidOperationException"/>).</summary>
internal static class DatabaseFailure
{
    public static bool Is(Exception e) => e switch
    {
        Npgsql.NpgsqlException or TimeoutException => true,
        InvalidOperationException { InnerException: { } inner } => Is(inner),
        _ => false,
    };
}
