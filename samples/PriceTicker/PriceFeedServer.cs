using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PriceTicker;

/// <summary>
/// A price feed on 127.0.0.1. A connection subscribes with {"op":"subscribe","symbol":"MSFT"} and then gets
/// {"symbol":"MSFT","price":412.5} for each subscribed symbol every 100 ms. Like real feeds, it forgets a connection's
/// subscriptions when the connection drops, and it drops every connection after 2.5 seconds (a TCP reset).
/// </summary>
internal sealed class PriceFeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PriceFeedServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<PriceFeedServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new PriceFeedServer(app);
        app.UseWebSockets();
        app.Map("/prices", HandleAsync);
        await app.StartAsync();
        server.Url = new Uri($"ws://127.0.0.1:{new Uri(app.Urls.First()).Port}/prices");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task HandleAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var subscribed = new ConcurrentDictionary<string, decimal>();
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var publisher = Task.Run(async () =>
        {
            var random = new Random();
            var stopAt = DateTime.UtcNow.AddSeconds(2.5);
            while (DateTime.UtcNow < stopAt && !lifetime.IsCancellationRequested)
            {
                foreach (var symbol in subscribed.Keys)
                {
                    var price = subscribed[symbol] = Math.Round(subscribed[symbol] * (1 + (decimal)(random.NextDouble() - 0.5) / 100), 2);
                    var update = JsonSerializer.SerializeToUtf8Bytes(new { symbol, price });
                    await socket.SendAsync(update, WebSocketMessageType.Text, true, CancellationToken.None);
                }

                await Task.Delay(100);
            }

            context.Abort(); // the feed "crashes": subscriptions are gone with the connection
        });

        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                using var request = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count));
                if (request.RootElement.GetProperty("op").GetString() == "subscribe")
                {
                    subscribed.TryAdd(request.RootElement.GetProperty("symbol").GetString()!, 100m);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // The connection is gone.
        }

        await lifetime.CancelAsync();
        await publisher.ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
