using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HostedService;

/// <summary>A feed server on 127.0.0.1 for the demo: counts the ticks it receives, answers each with "ok", records the close frame.</summary>
internal sealed class DemoFeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _ticks;

    private DemoFeedServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Ticks => Volatile.Read(ref _ticks);

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    public static async Task<DemoFeedServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new DemoFeedServer(app);
        app.UseWebSockets();
        app.Map("/feed", server.HandleAsync);
        await app.StartAsync();
        server.Url = new Uri($"ws://127.0.0.1:{new Uri(app.Urls.First()).Port}/feed");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                CloseStatus = socket.CloseStatus;
                CloseDescription = socket.CloseStatusDescription;
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            Interlocked.Increment(ref _ticks);
            await socket.SendAsync("ok"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }
}
