using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace QuickStart;

/// <summary>How the demo server ends a session.</summary>
internal enum DropMode
{
    /// <summary>Aborts the TCP connection (a reset): no close frame.</summary>
    TcpReset,

    /// <summary>Closes with 1012 "service restart".</summary>
    ServiceRestart,

    /// <summary>Goes down entirely for two seconds, then comes back on the same port.</summary>
    ServerDown,

    /// <summary>Stops answering without closing anything: a half-open link only keep-alive can find.</summary>
    Blackhole,
}

/// <summary>
/// An acknowledging echo server on 127.0.0.1: every text message "#n" is answered with "ack #n", and every id it sees
/// is recorded. Each session is dropped after a few seconds, in the next way of <see cref="DropMode"/>.
/// </summary>
internal sealed class DemoServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, bool> _received = new();
    private readonly ConcurrentDictionary<HttpContext, bool> _open = new();
    private WebApplication? _app;
    private Task _restart = Task.CompletedTask;
    private volatile bool _disposing;
    private int _sessions;
    private int _port;

    public Uri Url => new($"ws://127.0.0.1:{_port}/");

    /// <summary>Distinct message ids the server has received.</summary>
    public int Received => _received.Count;

    public static async Task<DemoServer> StartAsync()
    {
        var server = new DemoServer();
        await server.ListenAsync();
        return server;
    }

    public bool HasReceived(int id) => _received.ContainsKey(id);

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
        await _restart; // a restart under way finishes (or gives up) before the final stop
        await StopListeningAsync();
    }

    private async Task ListenAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, _port));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Map("/", HandleAsync);
        await app.StartAsync();
        _port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    private async Task StopListeningAsync()
    {
        foreach (var context in _open.Keys)
        {
            context.Abort();
        }

        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task RestartAsync()
    {
        await StopListeningAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (!_disposing)
        {
            await ListenAsync();
            Console.WriteLine("  server: back up");
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        _open[context] = true;
        var drop = (DropMode)(Interlocked.Increment(ref _sessions) % 4);
        using var sendLock = new SemaphoreSlim(1, 1);
        bool answering = true;
        bool blackholed = false;
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            if (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            Console.WriteLine($"  server: dropping the session: {drop}");
            switch (drop)
            {
                case DropMode.TcpReset:
                    context.Abort();
                    break;
                case DropMode.ServiceRestart:
                    await sendLock.WaitAsync();
                    try
                    {
                        answering = false;
                        await socket.CloseOutputAsync((WebSocketCloseStatus)1012, "service restart", CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
                    {
                        // Already gone.
                    }
                    finally
                    {
                        sendLock.Release();
                    }

                    break;
                case DropMode.ServerDown:
                    _restart = RestartAsync();
                    break;
                case DropMode.Blackhole:
                    answering = false;
                    blackholed = true;
                    break;
            }
        });

        var buffer = new byte[4096];
        try
        {
            while (!blackholed)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (answering)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    return;
                }

                string text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                if (!text.StartsWith('#') || !int.TryParse(text.AsSpan(1), out int id) || blackholed)
                {
                    continue;
                }

                _received[id] = true;
                await sendLock.WaitAsync();
                try
                {
                    if (answering)
                    {
                        await socket.SendAsync(Encoding.UTF8.GetBytes($"ack {text}"), WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
                finally
                {
                    sendLock.Release();
                }
            }

            // Blackholed: read nothing, answer nothing (not even pings), close nothing, until the client gives up.
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // The connection is over.
        }
        finally
        {
            _open.TryRemove(context, out _);
        }
    }
}
