namespace IotPki.Server.Operators;

/// <summary>Roles carried in operator certificates (subject OU); services hold the <see cref="Service"/> role.</summary>
public static class OperatorRole
{
    public const string Admin = "admin";
    public const string Viewer = "viewer";
    public const string Service = "service";

    /// <summary>Authorization policies: who may read, who may change.</summary>
    public const string CanRead = "operator.read";
    public const string CanChange = "operator.change";

    public static bool IsOperatorRole(string? role) => role is Admin or Viewer;
}
