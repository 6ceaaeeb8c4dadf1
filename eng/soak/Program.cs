using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets;

// Soak: a steady stream of acknowledged messages through a server that keeps breaking the link (TCP resets, FIN
// without a close frame, 1012 closes) at random moments from a fixed seed. Ends by itself after --seconds, waits for
// the outbox to drain, and prints reconnects, messages, lost (must be 0), managed memory and threads at start and end.
// Exit code 0 only when nothing was lost and memory and threads stayed flat.
int seconds = args is ["--seconds", var s] ? int.Parse(s, CultureInfo.InvariantCulture) : 60;
const int PerSecond = 500;

var received = new ConcurrentDictionary<string, bool>();
int repeats = 0, chaos = 0;
var random = new Random(20261202);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
var app = builder.Build();
app.UseWebSockets();
app.Map("/soak", async context =>
{
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    int lifetime;
    int mode;
    lock (random)
    {
        lifetime = random.Next(200, 1500);
        mode = random.Next(3);
    }

    // The link breaks after its lifetime, between two messages (a pending receive is never cancelled: that would abort
    // the socket, and every break would be the same).
    long endAt = Stopwatch.GetTimestamp() + lifetime * Stopwatch.Frequency / 1000;
    var buffer = new byte[64 * 1024];
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (EnvelopeReader.Read(buffer.AsMemory(0, result.Count)) is { Type: EnvelopeType.Message, AckRequested: true, Id: { } id, Body: { } body })
            {
                if (!received.TryAdd(body, true))
                {
                    Interlocked.Increment(ref repeats);
                }

                await socket.SendAsync(EnvelopeWriter.Ack(id), WebSocketMessageType.Text, true, CancellationToken.None);
            }

            if (Stopwatch.GetTimestamp() < endAt)
            {
                continue;
            }

            Interlocked.Increment(ref chaos);
            switch (mode)
            {
                case 0:
                    context.Abort(); // TCP reset
                    return;
                case 1:
                    return; // FIN without a close frame: the handler returns and Kestrel closes the connection
                default:
                    await socket.CloseOutputAsync((WebSocketCloseStatus)1012, "service restart", CancellationToken.None);
                    continue; // read until the client's close frame
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
    {
        // The client went away.
    }
});
await app.StartAsync();
var url = new Uri(app.Urls.First().Replace("http", "ws", StringComparison.Ordinal) + "/soak");

await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
{
    Uri = url,
    Envelope = new EnvelopeOptions { ClientId = "soak" },
    Delivery = new DeliveryOptions { AckTimeout = TimeSpan.FromSeconds(2), MaxAttempts = 1_000 },
    Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) },
    KeepAliveInterval = TimeSpan.FromSeconds(1),
    KeepAliveTimeout = TimeSpan.FromSeconds(1),
});
int reconnects = 0, dropped = 0;
client.Connected.Subscribe(c => { if (c.IsReconnect) { Interlocked.Increment(ref reconnects); } });
client.Dropped.Subscribe(d => { Interlocked.Increment(ref dropped); Console.WriteLine($"dropped: {d}"); });
await client.StartAsync();

(long Memory, int Threads) Measure()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    return (GC.GetTotalMemory(forceFullCollection: true), Process.GetCurrentProcess().Threads.Count);
}

// Warm up for a second, so the start is measured with the runtime's pools filled.
int sent = 0;
async Task SendForAsync(TimeSpan duration)
{
    using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
    var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    while (Stopwatch.GetTimestamp() < until && await tick.WaitForNextTickAsync())
    {
        for (int i = 0; i < PerSecond / 100; i++)
        {
            await client.EnqueueReliableAsync($"message {sent++}");
        }
    }
}

await SendForAsync(TimeSpan.FromSeconds(1));
var start = Measure();
await SendForAsync(TimeSpan.FromSeconds(seconds));
var drainUntil = Stopwatch.GetTimestamp() + 30 * Stopwatch.Frequency;
while (client.OutboxCount > 0 && Stopwatch.GetTimestamp() < drainUntil)
{
    await Task.Delay(50);
}

var finish = Measure();
int lost = Enumerable.Range(0, sent).Count(i => !received.ContainsKey($"message {i}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"soak {seconds} s: {chaos} links broken, reconnects {reconnects}, messages {sent}, received by the server {received.Count} (repeats {repeats}), still in the outbox {client.OutboxCount}, dropped {dropped}, lost {lost}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"managed memory {start.Memory / 1048576.0:F1} MiB at the start, {finish.Memory / 1048576.0:F1} MiB at the end; threads {start.Threads} at the start, {finish.Threads} at the end"));
await app.StopAsync();

bool flat = finish.Memory <= start.Memory + 16 * 1048576 && finish.Threads <= start.Threads + 8;
if (lost > 0 || dropped > 0 || reconnects == 0 || !flat)
{
    Console.WriteLine($"SOAK FAILED: {(lost > 0 || dropped > 0 ? "messages were lost; " : "")}{(reconnects == 0 ? "no reconnect happened; " : "")}{(flat ? "" : "memory or threads grew")}");
    return 1;
}

Console.WriteLine("SOAK PASSED");
return 0;
