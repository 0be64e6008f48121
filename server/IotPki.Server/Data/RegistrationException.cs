namespace IotPki.Server.Data;

/// <summary>A registration refused for its input (a bad name, a taken one, a certificate that is no CA): the message
/// is for the caller, as a 400 ProblemDetails or one CLI line.</summary>
public sealed class RegistrationException(string message) : Exception(message);
