// The loopback server the benchmarks run against, in its own process so that its work and its GC do not count
// against the client being measured. It prints "listening on <port>" once ready and stops when stdin closes.
//   /push?n=N&size=S   sends N text messages of S bytes as fast as it can, then waits for the client's close
//   /sink?n=N          reads messages; after every N it sends one text message "done"
//   /echo              echoes every message
//   /abort?after=N     echoes N messages, then aborts the TCP connection
using System.Net;
using System.Net.WebSockets;
using System.Text;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
var app = builder.Build();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });

app.Map("/push", async context =>
{
    int n = Query(context, "n");
    int size = Query(context, "size");
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var payload = Encoding.UTF8.GetBytes(new string('x', size));
    for (int i = 0; i < n; i++)
    {
        await socket.SendAsync(payload, WebSocketMessageType.Text, true, CancellationToken.None);
    }

    await DrainAsync(socket, echo: false, sinkEvery: 0, abortAfter: -1, context);
});

app.Map("/sink", async context =>
{
    int n = Query(context, "n");
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await DrainAsync(socket, echo: false, sinkEvery: n, abortAfter: -1, context);
});

app.Map("/echo", async context =>
{
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await DrainAsync(socket, echo: true, sinkEvery: 0, abortAfter: -1, context);
});

app.Map("/abort", async context =>
{
    int after = Query(context, "after");
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await DrainAsync(socket, echo: true, sinkEvery: 0, abortAfter: after, context);
});

await app.StartAsync();
Console.WriteLine($"listening on {new Uri(app.Urls.First()).Port}");
await Task.Run(() => Console.In.ReadToEnd());
await app.StopAsync();

static async Task DrainAsync(WebSocket socket, bool echo, int sinkEvery, int abortAfter, HttpContext context)
{
    var buffer = new byte[256 * 1024];
    var done = "done"u8.ToArray();
    long messages = 0;
    int count = 0;
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            count += result.Count;
            if (!result.EndOfMessage)
            {
                continue;
            }

            messages++;
            if (echo)
            {
                await socket.SendAsync(buffer.AsMemory(0, count), result.MessageType, true, CancellationToken.None);
            }

            count = 0;
            if (sinkEvery > 0 && messages % sinkEvery == 0)
            {
                await socket.SendAsync(done, WebSocketMessageType.Text, true, CancellationToken.None);
            }

            if (messages == abortAfter)
            {
                context.Abort();
                return;
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
    {
        // The client went away.
    }
}

static int Query(HttpContext context, string name) =>
    int.Parse(context.Request.Query[name].ToString(), System.Globalization.CultureInfo.InvariantCulture);
