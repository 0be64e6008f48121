namespace IotPki.Pki;

/// <summary>The passphrase that encrypts CA private keys at rest: from <c>IOTPKI_CA_PASSPHRASE</c>, or the file
/// named by <c>IOTPKI_CA_PASSPHRASE_FILE</c>.</summary>
public static class CaPassphrase
{
    public const string Variable = "IOTPKI_CA_PASSPHRASE";
    public const string FileVariable = "IOTPKI_CA_PASSPHRASE_FILE";
    public const int MinimumLength = 12;

    public static string Resolve(string? value, string? file)
    {
        var passphrase = !string.IsNullOrEmpty(value) ? value
            : !string.IsNullOrEmpty(file) ? ReadFile(file)
            : throw new InvalidOperationException($"No CA passphrase: set {Variable} or {FileVariable}.");
        if (passphrase.Length < MinimumLength)
        {
            throw new InvalidOperationException($"The CA passphrase must be at least {MinimumLength} characters long.");
        }
        return passphrase;
    }

    public static string FromEnvironment() =>
        Resolve(Environment.GetEnvironmentVariable(Variable), Environment.GetEnvironmentVariable(FileVariable));

    private static string ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The CA passphrase file {path} does not exist.");
        }
        return File.ReadAllText(path).TrimEnd('\r', '\n');
    }
}
