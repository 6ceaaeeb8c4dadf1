using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace QuickStart;

/// <summary>An echo server on 127.0.0.1 that drops each connection after a few seconds, cycling through close codes
/// 1012 (service restart), 1001 (going away) and 1011 (internal error). It reads until the client's close frame
/// arrives, so it counts every message the client wrote.</summary>
internal sealed class DemoServer : IAsyncDisposable
{
    private static readonly WebSocketCloseStatus[] Drops =
        [(WebSocketCloseStatus)1012, WebSocketCloseStatus.EndpointUnavailable, WebSocketCloseStatus.InternalServerError];

    private readonly WebApplication _app;
    private int _received;
    private int _sessions;

    private DemoServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Received => Volatile.Read(ref _received);

    public static async Task<DemoServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new DemoServer(app);
        app.UseWebSockets();
        app.Map("/", server.HandleAsync);
        await app.StartAsync();
        server.Url = new Uri($"ws://127.0.0.1:{new Uri(app.Urls.First()).Port}/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        int session = Interlocked.Increment(ref _sessions);
        using var sendLock = new SemaphoreSlim(1, 1);
        bool closing = false;
        var drop = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2 + session % 3));
            await sendLock.WaitAsync();
            try
            {
                closing = true;
                await socket.CloseOutputAsync(Drops[session % Drops.Length], "demo drop", CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or InvalidOperationException)
            {
                // The client is already gone.
            }
            finally
            {
                sendLock.Release();
            }
        });

        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                Interlocked.Increment(ref _received);
                await sendLock.WaitAsync();
                try
                {
                    if (!closing)
                    {
                        await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
                    }
                }
                finally
                {
                    sendLock.Release();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            // The connection broke: this session is over.
        }

        await drop;
    }
}
