using System.Net;
using System.Net.Sockets;

namespace IotPki.FirmwareSim;

/// <summary>A TCP relay in front of one broker, so that the network can fail: <see cref="Cut"/> resets a share of
/// the live connections at once, as a dropped link or a NAT timeout does. The TLS session runs end to end through it.</summary>
public sealed class BrokerProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly DnsEndPoint _broker;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(Socket Device, Socket Broker)> _links = [];
    private readonly Task _accepting;

    public BrokerProxy(Uri broker)
    {
        _broker = new DnsEndPoint(broker.Host, broker.Port);
        _listener.Start(1024);
        Address = new UriBuilder(broker) { Host = "localhost", Port = ((IPEndPoint)_listener.LocalEndpoint).Port }.Uri;
        _accepting = AcceptAsync();
    }

    /// <summary>The broker URL the devices use instead of the broker's.</summary>
    public Uri Address { get; }

    public int Live
    {
        get { lock (_lock) { return _links.Count; } }
    }

    /// <summary>Resets <paramref name="fraction"/> of the live connections (TCP RST both ways); returns how many.</summary>
    public int Cut(double fraction, Random random)
    {
        List<(Socket, Socket)> cut;
        lock (_lock)
        {
            cut = _links.Where(_ => random.NextDouble() < fraction).ToList();
            _links.RemoveAll(cut.Contains);
        }
        foreach (var (device, broker) in cut)
        {
            Reset(device);
            Reset(broker);
        }
        return cut.Count;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket device;
            try
            {
                device = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;  // stopped
            }
            catch (SocketException) when (!_stop.IsCancellationRequested)
            {
                // A device that gave up while still in the backlog (ECONNABORTED), or no descriptor left (EMFILE): one
                // connection lost, not the relay. Ending the loop here left every device behind it unable to connect.
                await Task.Delay(10);
                continue;
            }
            catch (SocketException)
            {
                return;
            }
            _ = RelayAsync(device);
        }
    }

    private async Task RelayAsync(Socket device)
    {
        var broker = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        device.NoDelay = true;
        try
        {
            await broker.ConnectAsync(_broker, _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The broker is down (an instance killed): the device sees its connection closed and retries.
            device.Dispose();
            broker.Dispose();
            return;
        }
        var link = (device, broker);
        lock (_lock)
        {
            _links.Add(link);
        }
        await Task.WhenAny(PumpAsync(device, broker), PumpAsync(broker, device));
        lock (_lock)
        {
            _links.Remove(link);
        }
        device.Dispose();
        broker.Dispose();
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side went away (or was cut): the other is closed by the caller.
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed by its own side.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_lock)
        {
            foreach (var (device, broker) in _links)
            {
                device.Dispose();
                broker.Dispose();
            }
            _links.Clear();
        }
        _stop.Dispose();
    }
}
