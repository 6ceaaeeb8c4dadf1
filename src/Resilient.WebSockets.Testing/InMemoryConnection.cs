using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace Resilient.WebSockets.Testing;

/// <summary>
/// The server's side of one connection of an <see cref="InMemoryWebSocketServer"/>: send to the client, receive what it
/// sent, and break the link in the ways real networks do. Both ends frame with the runtime's own WebSocket
/// (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>), so close handshakes, masking and UTF-8
/// checks are real.
/// </summary>
/// <remarks>What the client sends is read as it arrives and kept until <see cref="ReceiveAsync"/> takes it; a close
/// frame from the client is answered, as a server answers it.</remarks>
public sealed class InMemoryConnection : IAsyncDisposable
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    private readonly InMemoryPipe _pipe;
    private readonly WebSocket _socket;
    private readonly Channel<WebSocketMessage> _received = Channel.CreateUnbounded<WebSocketMessage>();
    private readonly Task _reading;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _clientCloseStatus = -1;
    private string? _clientCloseDescription;

    internal InMemoryConnection(int attempt, Uri uri, InMemoryPipe pipe, WebSocket socket)
    {
        Attempt = attempt;
        Uri = uri;
        _pipe = pipe;
        _socket = socket;
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>Which connect attempt of the server this connection answered (1-based, counting refused and failed ones).</summary>
    public int Attempt { get; }

    /// <summary>The URI the client connected to.</summary>
    public Uri Uri { get; }

    /// <summary>The status of the client's close frame, once it sent one (null before, or if it never did).</summary>
    public WebSocketCloseStatus? ClientCloseStatus => Volatile.Read(ref _clientCloseStatus) is >= 0 and var status ? (WebSocketCloseStatus)status : null;

    /// <summary>The description of the client's close frame, once it sent one.</summary>
    public string? ClientCloseDescription => Volatile.Read(ref _clientCloseDescription);

    /// <summary>Delay added to everything that flows either way from now on (see <see cref="LatencyToClient"/>,
    /// <see cref="LatencyToServer"/>); reading it gives the larger of the two. Timed on the server's
    /// <see cref="TimeProvider"/>: with a fake clock, the bytes arrive when the test moves it on.</summary>
    public TimeSpan Latency
    {
        get => LatencyToClient > LatencyToServer ? LatencyToClient : LatencyToServer;
        set
        {
            LatencyToClient = value;
            LatencyToServer = value;
        }
    }

    /// <summary>Delay added to what the server sends, from now on.</summary>
    public TimeSpan LatencyToClient
    {
        get => _pipe.ToClient.Latency;
        set => _pipe.ToClient.Latency = NotNegative(value);
    }

    /// <summary>Delay added to what the client sends, from now on.</summary>
    public TimeSpan LatencyToServer
    {
        get => _pipe.ToServer.Latency;
        set => _pipe.ToServer.Latency = NotNegative(value);
    }

    /// <summary>Sends a text message to the client.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the message is written.</returns>
    public ValueTask SendAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, cancellationToken);
    }

    /// <summary>Sends a message of bytes to the client.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="messageType">Binary, or Text (then <paramref name="data"/> should be UTF-8: the client checks).</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the message is written.</returns>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(data, messageType, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next whole message the client sent.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The message; null once the connection has ended (the client closed it, or it broke) and everything it
    /// sent before was taken.</returns>
    public async ValueTask<WebSocketMessage?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (await _received.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_received.Reader.TryRead(out var message))
            {
                return message;
            }
        }

        return null;
    }

    /// <summary>The next message the client sent, as text (see <see cref="ReceiveAsync"/>); null once the connection has ended.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>The text; a binary message is decoded as UTF-8.</returns>
    public async ValueTask<string?> ReceiveTextAsync(CancellationToken cancellationToken = default) =>
        await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message
            ? message.MessageType == WebSocketMessageType.Text ? message.Text : Encoding.UTF8.GetString(message.Data.Span)
            : null;

    /// <summary>Closes the connection as a server does: a close frame with <paramref name="status"/>, then (once the
    /// client answered, or after 10 s) the end of the stream.</summary>
    /// <param name="status">The close status the client will report (1012 for a restart, 1008 for a policy, ...).</param>
    /// <param name="description">The close frame's description (at most 123 bytes of UTF-8).</param>
    /// <returns>A task that completes when the connection has ended.</returns>
    public async ValueTask CloseAsync(WebSocketCloseStatus status, string? description = null)
    {
        try
        {
            await _sendLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await _socket.CloseOutputAsync(status, description, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }

            await _reading.WaitAsync(CloseWait).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or TimeoutException)
        {
            // Already ended, or the client never answered: the stream ends below either way.
        }

        _pipe.Server.Dispose();
    }

    /// <summary>Ends the connection at once, as a reset: both ends fail with an I/O error, no close frame.</summary>
    public void Abort() => _pipe.Break();

    /// <summary>Goes half-open: nothing flows either way and nothing closes (writes are still taken, as a kernel's buffers
    /// take them) until <see cref="Resume"/>. What the client's keep-alive is there to find.</summary>
    public void Stall()
    {
        _pipe.ToClient.Stall();
        _pipe.ToServer.Stall();
    }

    /// <summary>Lets everything held since <see cref="Stall"/> flow, in order.</summary>
    public void Resume()
    {
        _pipe.ToClient.Resume();
        _pipe.ToServer.Resume();
    }

    /// <summary>Writes bytes to the client as they are, outside the server's framing: a malformed frame, a frame with a
    /// reserved opcode, invalid UTF-8 in a text frame. The client's WebSocket judges them as it would a real server's.</summary>
    /// <param name="bytes">The bytes, for example <c>[0x81, 0x02, 0xC3, 0x28]</c> (a text frame of invalid UTF-8).</param>
    /// <returns>A task that completes when the bytes are written.</returns>
    public async ValueTask SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await _sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _pipe.Server.WriteRawAsync(bytes).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Aborts the connection (if still open) and waits for its reader to end.</summary>
    /// <returns>A task that completes when the connection is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        Abort();
        try
        {
            await _reading.ConfigureAwait(false);
        }
        finally
        {
            _socket.Dispose();
            _sendLock.Dispose();
        }
    }

    // For our own tests: the client's writes wait, as when the server stops reading and the TCP window fills.
    internal void HoldClientWrites() => _pipe.ToServer.HoldWrites();

    internal void ReleaseClientWrites() => _pipe.ToServer.ReleaseWrites();

    private static TimeSpan NotNegative(TimeSpan value) =>
        value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A latency cannot be negative.");

    private async Task ReadAsync()
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None).ConfigureAwait(false);
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Volatile.Write(ref _clientCloseDescription, _socket.CloseStatusDescription);
                    Volatile.Write(ref _clientCloseStatus, (int)(_socket.CloseStatus ?? WebSocketCloseStatus.Empty));
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _sendLock.WaitAsync().ConfigureAwait(false);
                        try
                        {
                            await _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
                        }
                        finally
                        {
                            _sendLock.Release();
                        }
                    }

                    _pipe.Server.Dispose(); // the server ends the TCP connection after the close handshake
                    return;
                }

                var message = result.MessageType == WebSocketMessageType.Text
                    ? WebSocketMessage.FromText(Encoding.UTF8.GetString(buffer, 0, count))
                    : WebSocketMessage.FromBinary(buffer.AsSpan(0, count));
                _received.Writer.TryWrite(message);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection broke or was disposed: nothing more arrives.
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}
