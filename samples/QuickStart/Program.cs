// QuickStart: a ReconnectingWebSocket surviving a server that keeps dropping it.
//
//   dotnet run --project samples/QuickStart              the demo, against an embedded server on 127.0.0.1
//   dotnet run --project samples/QuickStart -- ws://...  an interactive client for your own server
using System.Net.WebSockets;
using Resilient.WebSockets;
using QuickStart;

if (args.Length > 0)
{
    return await InteractiveAsync(new Uri(args[0]));
}

await using var server = await DemoServer.StartAsync();
Console.WriteLine($"Demo server on {server.Url}. It will drop the connection every few seconds, in a different way each time.");

var options = new ReconnectingWebSocketOptions
{
    Uri = server.Url,
    Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(2) },
};
await using var client = new ReconnectingWebSocket(options);

int echoed = 0, reconnects = 0;
TimeSpan longestOutage = TimeSpan.Zero;
using var states = client.StateChanges.Subscribe(change =>
    Console.WriteLine($"  state: {change.Previous} -> {change.Current}{(change.Reason is { } reason ? $" ({reason})" : "")}"));
using var connects = client.Connected.Subscribe(info =>
{
    if (info.IsReconnect)
    {
        reconnects++;
        longestOutage = info.Downtime > longestOutage ? info.Downtime : longestOutage;
        Console.WriteLine($"  reconnected after {info.Downtime.TotalMilliseconds:F0} ms (attempt {info.Attempt})");
    }
});
using var messages = client.Messages.Subscribe(_ => Interlocked.Increment(ref echoed));

await client.StartAsync();
const int Count = 100;
for (int i = 1; i <= Count; i++)
{
    await client.SendAsync($"message #{i}");
    await Task.Delay(100);
}

await client.StopAsync();
int received = server.Received;
Console.WriteLine();
Console.WriteLine($"sent {Count}, received by the server {received}, echoed back {echoed}, reconnects {reconnects}, longest outage {longestOutage.TotalMilliseconds:F0} ms, lost {Count - received}");
return received == Count ? 0 : 1;

static async Task<int> InteractiveAsync(Uri uri)
{
    await using var client = new ReconnectingWebSocket(uri);
    using var states = client.StateChanges.Subscribe(c => Console.WriteLine($"[{c.Current}{(c.Reason is { } r ? $": {r}" : "")}]"));
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
