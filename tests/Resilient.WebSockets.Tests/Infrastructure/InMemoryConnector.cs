using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>
/// A connector with no network: each attempt either fails as scripted or returns the client end of an in-memory
/// WebSocket pair (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/> over the testing kit's <see cref="InMemoryPipe"/>, the one the kit's own server uses),
/// whose server end the test takes from <see cref="AcceptAsync"/>.
/// </summary>
internal sealed class InMemoryConnector : IWebSocketConnector
{
    private readonly Channel<ServerEnd> _accepted = Channel.CreateUnbounded<ServerEnd>();
    private int _attempts;

    /// <summary>Decides each attempt (1-based): return an exception to fail it, a task to hold it, or null to connect.</summary>
    public Func<int, CancellationToken, Task<Exception?>>? Script { get; set; }

    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>When set, every server end reads and discards what the client sends and answers its close frame,
    /// as a real server would (the connection is still handed to <see cref="AcceptAsync"/>).</summary>
    public bool AnswerCloses { get; set; }

    public async ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        int attempt = Interlocked.Increment(ref _attempts);
        if (Script is { } script && await script(attempt, cancellationToken) is { } failure)
        {
            throw failure;
        }

        var pipe = new InMemoryPipe(TimeProvider.System);
        var (clientStream, serverStream) = (pipe.Client, pipe.Server);
        var client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var end = new ServerEnd(server, serverStream, clientStream, attempt);
        if (AnswerCloses)
        {
            end.StartAnsweringCloses();
        }

        _accepted.Writer.TryWrite(end);
        return client;
    }

    /// <summary>The server end of the next connection, waiting up to <see cref="Testing.ClientProbe.DefaultTimeout"/>.</summary>
    public async Task<ServerEnd> AcceptAsync() =>
        await _accepted.Reader.ReadAsync().AsTask().WaitAsync(Testing.ClientProbe.DefaultTimeout);
}

/// <summary>The server side of one in-memory connection.</summary>
internal sealed class ServerEnd(WebSocket socket, InMemoryPipe.End stream, InMemoryPipe.End clientStream, int attempt)
{
    public WebSocket Socket { get; } = socket;

    public int Attempt { get; } = attempt;

    public Task SendTextAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Receives one whole message as text; a close frame comes back as null.</summary>
    public async Task<string?> ReceiveTextAsync() =>
        await ReceiveAsync() is { } message ? Encoding.UTF8.GetString(message.Data) : null;

    /// <summary>Reads and discards until the client's close frame, then answers it; ends by itself when the connection does.</summary>
    public void StartAnsweringCloses() => _ = Task.Run(async () =>
    {
        var buffer = new byte[4096];
        try
        {
            while (Socket.State == WebSocketState.Open)
            {
                var result = await Socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
            }

            // Handshake done: close the connection, as a server does (a client waits up to a second for that).
            stream.Dispose();
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended: nothing left to answer.
        }
    });

    /// <summary>The client's writes wait from now on, as when the server stops reading and the TCP window fills.</summary>
    public void HoldClientWrites() => clientStream.Pipe.ToServer.HoldWrites();

    public void ReleaseClientWrites() => clientStream.Pipe.ToServer.ReleaseWrites();

    /// <summary>Receives one whole message with its type; a close frame comes back as null.</summary>
    public async Task<(WebSocketMessageType Type, byte[] Data)?> ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        int count = 0;
        while (true)
        {
            if (count == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2); // a receive into no room returns nothing, for ever
            }

            var result = await Socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None).AsTask().WaitAsync(Testing.ClientProbe.DefaultTimeout);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return (result.MessageType, buffer[..count]);
            }
        }
    }

    /// <summary>Breaks the connection as a reset would: both directions fail with an I/O error.</summary>
    public void Kill() => stream.Pipe.Break();
}
