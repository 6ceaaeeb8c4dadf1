using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets;

namespace Outbox;

/// <summary>
/// A small ASP.NET Core server that speaks the envelope with <see cref="EnvelopeReader"/> and <see cref="EnvelopeWriter"/>:
/// it processes each (client, id) once, acknowledges every reliable message a quarter of a second later (once the order
/// is "committed", as a real server would after its database write), and answers requests. What it processed lives in
/// <see cref="Orders"/>, its "database", which outlives restarts of the server.
/// </summary>
internal sealed class OrderServer(OrderBook orders) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<HttpContext, bool> _open = new();
    private WebApplication? _app;

    public int Port { get; private set; }

    public OrderBook Orders => orders;

    /// <summary>Listens on 127.0.0.1 (on <paramref name="port"/>, or any free port for 0).</summary>
    public async Task StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/orders", HandleAsync);
        await app.StartAsync();
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    /// <summary>Goes down as a crash does: every connection is cut, nothing is closed politely.</summary>
    public async Task StopAsync()
    {
        foreach (var context in _open.Keys)
        {
            context.Abort();
        }

        if (_app is { } app)
        {
            await app.StopAsync();
            await app.DisposeAsync();
            _app = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private static async Task AnswerLaterAsync(WebSocket socket, SemaphoreSlim sending, byte[] frame, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay);
            await sending.WaitAsync();
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
            }
            finally
            {
                sending.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The connection is gone: the client writes the order again, and the server takes it once.
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        _open[context] = true;
        string client = "?";
        var buffer = new byte[64 * 1024];
        using var sending = new SemaphoreSlim(1); // one send at a time on a WebSocket
        try
        {
            while (true)
            {
                int count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += result.Count;
                }
                while (!result.EndOfMessage && count < buffer.Length);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                switch (EnvelopeReader.Read(buffer.AsMemory(0, count)))
                {
                    case { Type: EnvelopeType.Hello, ClientId: { } id }:
                        client = id;
                        break;
                    case { Type: EnvelopeType.Message, AckRequested: true, Id: { } id, Body: { } body }:
                        orders.Take(client, id, body); // once per (client, id), however often it comes
                        _ = AnswerLaterAsync(socket, sending, EnvelopeWriter.Ack(id), TimeSpan.FromMilliseconds(250));
                        break;
                    case { Type: EnvelopeType.Request, Id: { } id }:
                        _ = AnswerLaterAsync(socket, sending, EnvelopeWriter.Response(id, orders.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)), TimeSpan.Zero);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The connection was cut (by a restart of this server, or by the client dying).
        }
        finally
        {
            _open.TryRemove(context, out _);
        }
    }
}

/// <summary>The server's record of orders: each (client, message id) is processed once; repeats are counted, not processed.</summary>
internal sealed class OrderBook
{
    private readonly ConcurrentDictionary<(string Client, string Id), string> _taken = new();
    private int _repeats;

    public int Count => _taken.Count;

    public int Repeats => Volatile.Read(ref _repeats);

    public IEnumerable<string> Bodies => _taken.Values;

    public void Take(string client, string id, string body)
    {
        if (!_taken.TryAdd((client, id), body))
        {
            Interlocked.Increment(ref _repeats);
        }
    }
}
