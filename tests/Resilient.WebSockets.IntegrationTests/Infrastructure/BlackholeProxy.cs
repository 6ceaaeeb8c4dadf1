using System.Net;
using System.Net.Sockets;

namespace Resilient.WebSockets.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a test server. <see cref="Blackhole"/> makes it stop forwarding in both
/// directions without closing anything (a half-open link: TCP is acknowledged, nothing gets through), and new
/// connections are accepted but not forwarded either; <see cref="Resume"/> lets everything through again.
/// </summary>
public sealed class BlackholeProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _sockets = [];
    private readonly Task _acceptLoop;
    private TaskCompletionSource _open = Opened();
    private long _chunksToServer;

    private BlackholeProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Chunks forwarded from clients to the server so far (pings included).</summary>
    public long ChunksToServer => Interlocked.Read(ref _chunksToServer);

    public event Action? Forwarded;

    public static BlackholeProxy Start(int targetPort) => new(targetPort);

    public void Blackhole() => Interlocked.Exchange(ref _open, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Resume() => Volatile.Read(ref _open).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Resume();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _acceptLoop;
        _stop.Dispose();
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = Task.Run(() => ConnectAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The proxy is stopping.
        }
    }

    private async Task ConnectAsync(TcpClient client)
    {
        var server = new TcpClient();
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }

        try
        {
            await Volatile.Read(ref _open).Task.WaitAsync(_stop.Token);
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            await Task.WhenAny(
                PumpAsync(client.GetStream(), server.GetStream(), toServer: true),
                PumpAsync(server.GetStream(), client.GetStream(), toServer: false));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // One side went away or the proxy is stopping.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool toServer)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                // While blackholed the chunk is held here, and nothing more is read: the peer's data piles up unanswered.
                await Volatile.Read(ref _open).Task.WaitAsync(_stop.Token);
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (toServer)
                {
                    Interlocked.Increment(ref _chunksToServer);
                }

                Forwarded?.Invoke();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Closed or stopping.
        }
    }
}
