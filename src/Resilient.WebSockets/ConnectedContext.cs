using System.Net.WebSockets;
using Resilient.WebSockets.Connection;

namespace Resilient.WebSockets;

/// <summary>
/// Handed to <see cref="ReconnectingWebSocketOptions.OnConnected"/> on every new session. What it sends goes
/// straight to the new socket, before any queued message: authenticate and re-subscribe here.
/// </summary>
/// <remarks>Valid only while the hook runs; its sends are serialized, so the hook may send from several tasks.</remarks>
public sealed class ConnectedContext
{
    private readonly WebSocketSession _session;

    internal ConnectedContext(ConnectedInfo info, WebSocketSession session)
    {
        Info = info;
        _session = session;
    }

    /// <summary>The connect that opened this session.</summary>
    public ConnectedInfo Info { get; }

    /// <summary>Sends a text message on the new session, ahead of the queue.</summary>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <param name="cancellationToken">Cancels the send; a cancelled send aborts the session (the attempt then fails).</param>
    /// <returns>A task that completes when the message has been written to the socket.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The hook has already returned.</exception>
    public ValueTask SendAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _session.SendDirectAsync(text, cancellationToken);
    }

    /// <summary>Sends a message on the new session, ahead of the queue.</summary>
    /// <param name="data">The payload; not copied, so leave it unchanged until the task completes.</param>
    /// <param name="messageType">Text (UTF-8) or binary.</param>
    /// <param name="cancellationToken">Cancels the send; a cancelled send aborts the session (the attempt then fails).</param>
    /// <returns>A task that completes when the message has been written to the socket.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not Text or Binary.</exception>
    /// <exception cref="InvalidOperationException">The hook has already returned.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, CancellationToken cancellationToken = default)
    {
        ReconnectingWebSocket.ValidateMessageType(messageType);
        return _session.SendDirectAsync(data, messageType, cancellationToken);
    }
}
