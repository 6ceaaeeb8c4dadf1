using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Chat;

/// <summary>
/// A tiny chat server on 127.0.0.1. A client sends {"type":"join","name":"alice","room":"lobby"} and then
/// {"type":"say","text":"hi"}; everyone in the room gets {"name":"alice","text":"hi","time":"..."}.
/// </summary>
internal sealed class ChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<Member, bool> _members = new();

    private ChatServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Port { get; private set; }

    public static async Task<ChatServer> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var server = new ChatServer(app);
        app.UseWebSockets();
        app.Map("/chat", server.HandleAsync);
        await app.StartAsync();
        server.Port = new Uri(app.Urls.First()).Port;
        server.Url = new Uri($"ws://127.0.0.1:{server.Port}/chat");
        return server;
    }

    /// <summary>Stops as a crash would: every connection is reset.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members.Keys)
        {
            member.Context.Abort();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var member = new Member(context, socket);
        _members[member] = true;
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }

                using var request = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count));
                var root = request.RootElement;
                switch (root.GetProperty("type").GetString())
                {
                    case "join":
                        member.Name = root.GetProperty("name").GetString() ?? "?";
                        member.Room = root.GetProperty("room").GetString() ?? "lobby";
                        await BroadcastAsync(member.Room, "server", $"{member.Name} joined {member.Room}");
                        break;
                    case "say" when member.Room is not null:
                        await BroadcastAsync(member.Room, member.Name!, root.GetProperty("text").GetString() ?? "");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or JsonException)
        {
            // Gone, or not speaking the protocol.
        }
        finally
        {
            _members.TryRemove(member, out _);
        }
    }

    private async Task BroadcastAsync(string room, string name, string text)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new { name, text, time = DateTimeOffset.UtcNow });
        foreach (var member in _members.Keys.Where(m => m.Room == room))
        {
            await member.SendAsync(payload);
        }
    }

    private sealed class Member(HttpContext context, WebSocket socket) : IDisposable
    {
        private readonly SemaphoreSlim _sendLock = new(1, 1);

        public HttpContext Context { get; } = context;

        public string? Name { get; set; }

        public string? Room { get; set; }

        public void Dispose() => _sendLock.Dispose();

        public async Task SendAsync(byte[] payload)
        {
            await _sendLock.WaitAsync();
            try
            {
                await socket.SendAsync(payload, WebSocketMessageType.Text, true, CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
            {
                // That member is gone; the others still get the message.
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
