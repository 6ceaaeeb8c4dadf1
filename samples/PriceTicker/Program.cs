// PriceTicker: subscribe to symbols, re-subscribe after every reconnect, keep a live table, flag stale prices.
//
//   dotnet run --project samples/PriceTicker              against an embedded feed that drops every 2.5 s (8 seconds)
//   dotnet run --project samples/PriceTicker -- ws://...  against your own feed speaking the same protocol
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Reactive.Linq;
using System.Text.Json;
using PriceTicker;
using Resilient.WebSockets;

string[] symbols = ["MSFT", "AAPL", "EURUSD"];
await using var feed = args.Length == 0 ? await PriceFeedServer.StartAsync() : null;
var url = feed?.Url ?? new Uri(args[0]);

var prices = new ConcurrentDictionary<string, (decimal Price, DateTime At)>();
DateTime lastReconnect = DateTime.MinValue;
int reconnects = 0;
var options = new ReconnectingWebSocketOptions
{
    Uri = url,
    Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(300), MaxDelay = TimeSpan.FromSeconds(2) },
    // The feed forgets subscriptions with the connection: subscribe again on every new session, before anything else.
    OnConnected = async (session, cancellationToken) =>
    {
        foreach (var symbol in symbols)
        {
            await session.SendAsync(JsonSerializer.Serialize(new { op = "subscribe", symbol }), cancellationToken);
        }
    },
};
await using var client = new ReconnectingWebSocket(options);

using var updates = client.Messages
    .Where(message => message.MessageType == WebSocketMessageType.Text)
    .Select(message => JsonSerializer.Deserialize<PriceUpdate>(message.Text, JsonSerializerOptions.Web)!)
    .Subscribe(update => prices[update.Symbol] = (update.Price, DateTime.UtcNow));
using var states = client.StateChanges
    .Where(change => change.Current is ConnectionState.Reconnecting or ConnectionState.Connected)
    .Subscribe(change => Console.WriteLine($"  ({change})"));
using var connects = client.Connected.Where(info => info.IsReconnect).Subscribe(_ =>
{
    reconnects++;
    lastReconnect = DateTime.UtcNow;
});

await client.StartAsync();
for (int frame = 0; frame < 16; frame++)
{
    await Task.Delay(500);
    Console.WriteLine(client.IsConnected ? "live" : $"DISCONNECTED ({client.State}): prices below are stale");
    foreach (var symbol in symbols)
    {
        if (prices.TryGetValue(symbol, out var last))
        {
            var age = DateTime.UtcNow - last.At;
            bool stale = !client.IsConnected || age > TimeSpan.FromSeconds(1);
            Console.WriteLine($"  {symbol,-7} {last.Price,10:F2}  {age.TotalSeconds,5:F1} s ago{(stale ? "  STALE" : "")}");
        }
        else
        {
            Console.WriteLine($"  {symbol,-7} {"-",10}");
        }
    }
}

// Re-subscription worked if every symbol has a price newer than the last reconnect.
bool resubscribed = symbols.All(s => prices.TryGetValue(s, out var last) && last.At > lastReconnect);
Console.WriteLine($"reconnects {reconnects}, every symbol updated after the last reconnect: {resubscribed}");
await client.StopAsync();
return reconnects > 0 && resubscribed ? 0 : 1;

internal sealed record PriceUpdate(string Symbol, decimal Price);
