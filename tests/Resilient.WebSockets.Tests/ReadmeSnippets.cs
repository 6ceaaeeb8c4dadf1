// Every C# block of README.md, so that they compile: ReadmeTests checks that each block stands here word for word.
#pragma warning disable CA1849, CA2007, CA1303, CA1031, IDE0059
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Text.Json;

namespace Resilient.WebSockets.Tests;

internal static class ReadmeSnippets
{
    public static async Task QuickstartAsync()
    {
        // README: Quickstart
await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
{
    Uri = new Uri("wss://example.com/feed"),
    OnConnected = (session, ct) => session.SendAsync("""{"op":"subscribe","topic":"prices"}""", ct),
});

using var messages = client.Messages.Subscribe(m => Console.WriteLine(m.Text));
using var states = client.StateChanges.Subscribe(s => Console.WriteLine($"{s.Current} {s.Reason}"));

await client.StartAsync();               // completes once connected; retries until then
await client.SendAsync("hello");         // completes once written; queued while disconnected
Console.ReadLine();
await client.StopAsync();                // flushes the queue, sends a close frame
    }

    public static void ReceivingWithRx(ReconnectingWebSocket client)
    {
        // README: Receiving with Rx
using var prices = client.Messages
    .Where(message => message.MessageType == WebSocketMessageType.Text)
    .Select(message => JsonSerializer.Deserialize<PriceUpdate>(message.Text)!)
    .Where(update => update.Symbol == "MSFT")
    .ObserveOn(TaskPoolScheduler.Default) // or a UI SynchronizationContext
    .Subscribe(update => Console.WriteLine($"{update.Symbol} {update.Price}"));
    }

    public static ReconnectingWebSocketOptions Resubscribing()
    {
        // README: Re-subscribing after a reconnect
var subscriptions = new ConcurrentDictionary<string, bool>();
var options = new ReconnectingWebSocketOptions
{
    Uri = new Uri("wss://example.com/prices"),
    OnConnected = async (session, cancellationToken) =>
    {
        await session.SendAsync("""{"op":"auth","token":"my-token"}""", cancellationToken);
        foreach (var symbol in subscriptions.Keys)
        {
            await session.SendAsync($$"""{"op":"subscribe","symbol":"{{symbol}}"}""", cancellationToken);
        }
    },
};
        return options;
    }

    internal sealed record PriceUpdate(string Symbol, decimal Price);
}
