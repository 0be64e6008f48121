namespace IotPki.Server.Ca;

public static class AuthorityRole
{
    public const string Root = "root";
    public const string Issuing = "issuing";
    public const string DemoManufacturer = "demo-manufacturer";
    public const string DemoManufacturerName = "demo";
}
