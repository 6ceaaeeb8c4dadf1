using System.Net.WebSockets;
using System.Text.Json;
using Resilient.WebSockets;

namespace Chat;

/// <summary>A chat client: joins its room on every new session (so it survives server restarts) and prints each line with its time.</summary>
internal sealed class ChatClient : IAsyncDisposable
{
    private readonly ReconnectingWebSocket _socket;
    private readonly IDisposable _lines;

    public ChatClient(Uri url, string name, string room, Action<string> print)
    {
        _socket = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = url,
            Name = name,
            Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(2) },
            OnConnected = (session, cancellationToken) =>
                session.SendAsync(JsonSerializer.Serialize(new { type = "join", name, room }), cancellationToken),
        });
        _lines = _socket.Messages.Subscribe(message =>
        {
            if (message.MessageType != WebSocketMessageType.Text)
            {
                return;
            }

            var line = JsonSerializer.Deserialize<ChatLine>(message.Text, JsonSerializerOptions.Web)!;
            print($"[{line.Time.ToLocalTime():HH:mm:ss}] {line.Name}: {line.Text}");
        });
    }

    public IObservable<ConnectionStateChange> StateChanges => _socket.StateChanges;

    public Task StartAsync() => _socket.StartAsync();

    /// <summary>Says something; queued while the server is away, sent in order once it is back.</summary>
    public ValueTask SayAsync(string text) => _socket.SendAsync(JsonSerializer.Serialize(new { type = "say", text }));

    public async ValueTask DisposeAsync()
    {
        _lines.Dispose();
        await _socket.DisposeAsync();
    }

    private sealed record ChatLine(string Name, string Text, DateTimeOffset Time);
}
