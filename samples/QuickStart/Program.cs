// QuickStart: a ReconnectingWebSocket surviving a server that keeps dropping it, in four different ways.
//
//   dotnet run --project samples/QuickStart              the demo, against an embedded server on 127.0.0.1 (about 30 s)
//   dotnet run --project samples/QuickStart -- ws://...  an interactive client for your own server
using System.Collections.Concurrent;
using System.Net.WebSockets;
using QuickStart;
using Resilient.WebSockets;

if (args.Length > 0)
{
    return await InteractiveAsync(new Uri(args[0]));
}

await using var server = await DemoServer.StartAsync();
Console.WriteLine($"Demo server on {server.Url}: every few seconds it drops the connection by a TCP reset, a 1012 close,");
Console.WriteLine("going down for two seconds, or silently stopping to answer (a blackhole). The client sends a numbered");
Console.WriteLine("message every 100 ms; the server acknowledges each, and the client re-sends what was not acknowledged");
Console.WriteLine("when it reconnects, so nothing is lost, even what a reset swallowed.");
Console.WriteLine();

// Sent but not yet acknowledged: re-sent first on every new session. (A message still in the client's queue may
// then go out twice; the server keeps each id once. Acknowledgements are how an app gets "nothing lost at all":
// the client guarantees it never drops a message silently, but a TCP reset can swallow what was already written.)
var unacknowledged = new ConcurrentDictionary<int, string>();
var options = new ReconnectingWebSocketOptions
{
    Uri = server.Url,
    KeepAliveInterval = TimeSpan.FromSeconds(1),
    KeepAliveTimeout = TimeSpan.FromSeconds(1),
    ConnectTimeout = TimeSpan.FromSeconds(2),
    Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(2) },
    OnConnected = async (session, cancellationToken) =>
    {
        foreach (var (_, text) in unacknowledged.OrderBy(pair => pair.Key))
        {
            await session.SendAsync(text, cancellationToken);
        }
    },
};
await using var client = new ReconnectingWebSocket(options);

int reconnects = 0;
TimeSpan longestOutage = TimeSpan.Zero;
// Each move says why, and when the next attempt comes: "Reconnecting in 0.2 s (connection lost): ...".
using var states = client.StateChanges.Subscribe(change => Console.WriteLine($"  state: {change}"));
using var connects = client.Connected.Subscribe(info =>
{
    if (info.IsReconnect)
    {
        reconnects++;
        longestOutage = info.Downtime > longestOutage ? info.Downtime : longestOutage;
        Console.WriteLine($"  reconnected after {info.Downtime.TotalMilliseconds:F0} ms (attempt {info.Attempt}); re-sending {unacknowledged.Count} unacknowledged");
    }
});
using var acks = client.Messages.Subscribe(message =>
{
    if (message.MessageType == WebSocketMessageType.Text && message.Text.StartsWith("ack #", StringComparison.Ordinal)
        && int.TryParse(message.Text.AsSpan(5), out int id))
    {
        unacknowledged.TryRemove(id, out _);
    }
});

await client.StartAsync();
const int Count = 200;
for (int id = 1; id <= Count; id++)
{
    string text = $"#{id}";
    unacknowledged[id] = text;
    client.TryEnqueue(text); // returns at once; while disconnected the message waits in the queue
    await Task.Delay(100);
}

// Give the last ones time to be acknowledged (or re-sent after a last drop).
for (int wait = 0; wait < 150 && !unacknowledged.IsEmpty; wait++)
{
    await Task.Delay(100);
}

await client.StopAsync();
int lost = Enumerable.Range(1, Count).Count(id => !server.HasReceived(id));
Console.WriteLine();
Console.WriteLine($"sent {Count}, received by the server {server.Received}, reconnects {reconnects}, longest outage {longestOutage.TotalMilliseconds:F0} ms, messages lost {lost}");
return lost == 0 ? 0 : 1;

static async Task<int> InteractiveAsync(Uri uri)
{
    await using var client = new ReconnectingWebSocket(uri);
    using var states = client.StateChanges.Subscribe(change => Console.WriteLine($"[{change}]"));
    using var messages = client.Messages.Subscribe(m =>
        Console.WriteLine(m.MessageType == WebSocketMessageType.Text ? $"< {m.Text}" : $"< ({m.Data.Length} bytes)"));
    await client.StartAsync();
    Console.WriteLine("Type a line to send it; an empty line quits.");
    while (Console.ReadLine() is { Length: > 0 } line)
    {
        await client.SendAsync(line);
    }

    await client.StopAsync();
    return 0;
}
