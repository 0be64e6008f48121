using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace IotPki.Pki.Keys;

/// <summary>One token of a PKCS#11 library, logged in as its user, with a pool of sessions for concurrent signing
/// (a PKCS#11 session runs one operation at a time). The PIN is used once, to log in, and not kept.</summary>
public sealed class Pkcs11Token : IDisposable
{
    // C_Initialize may run once per process and library: every token of a library shares one loaded instance.
    private static readonly ConcurrentDictionary<string, Lazy<IPkcs11Library>> Libraries = new(StringComparer.Ordinal);

    private readonly ISession _loginSession;
    private readonly ConcurrentBag<ISession> _idle = [];

    // Pkcs11Interop detects the platform on first use without a lock (two first uses at once throw): one instance,
    // made once, in the static constructor.
    private static readonly Pkcs11InteropFactories SharedFactories;

    public Pkcs11InteropFactories Factories => SharedFactories;
    public string Label { get; }
    public ISlot Slot { get; }

    static Pkcs11Token()
    {
        // Pkcs11Interop loads tokens through dlopen from "libdl", a name only glibc's -dev package provides; since
        // glibc 2.34 the runtime library is libdl.so.2 (a stub over libc).
        NativeLibrary.SetDllImportResolver(typeof(Pkcs11InteropFactories).Assembly, (name, _, _) =>
            name == "libdl" && OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libdl.so.2", out var handle) ? handle : IntPtr.Zero);
        SharedFactories = new Pkcs11InteropFactories();
    }

    public Pkcs11Token(string libraryPath, string label, string pin)
    {
        Label = label;
        var library = Libraries.GetOrAdd(Path.GetFullPath(libraryPath), path => new Lazy<IPkcs11Library>(
            () => SharedFactories.Pkcs11LibraryFactory.LoadPkcs11Library(SharedFactories, path, AppType.MultiThreaded))).Value;
        Slot = library.GetSlotList(SlotsType.WithTokenPresent)
            .FirstOrDefault(s => s.GetTokenInfo().Label.Trim() == label)
            ?? throw new InvalidOperationException($"No PKCS#11 token labelled '{label}' in {libraryPath}.");
        _loginSession = Slot.OpenSession(SessionType.ReadWrite);
        try
        {
            _loginSession.Login(CKU.CKU_USER, pin);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Another store of this process logged in to the token already: login state is per token, not per session.
        }
        catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_LOCKED)
        {
            _loginSession.Dispose();
            throw new InvalidOperationException($"The PKCS#11 token '{label}' refused the PIN ({e.RV}).", e);
        }
    }

    /// <summary>Runs <paramref name="operation"/> on a read-write session of its own (key generation, lookups).</summary>
    public T WithSession<T>(Func<ISession, T> operation)
    {
        var session = _idle.TryTake(out var idle) ? idle : Slot.OpenSession(SessionType.ReadWrite);
        try
        {
            return operation(session);
        }
        finally
        {
            _idle.Add(session);
        }
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var session))
        {
            session.Dispose();
        }
        _loginSession.Dispose();
    }
}
