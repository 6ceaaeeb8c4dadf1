namespace Resilient.WebSockets;

/// <summary>Why a session ended, or why the client stopped.</summary>
public enum DisconnectReason
{
    /// <summary>The server sent a close frame. <see cref="DisconnectedInfo.CloseStatus"/> holds its code.</summary>
    ClosedByServer = 0,

    /// <summary>The connection failed without a close handshake (reset, abort, I/O error, failed write).</summary>
    ConnectionLost = 1,

    /// <summary>No pong came back within <see cref="ReconnectingWebSocketOptions.KeepAliveTimeout"/> (net9 and later: the runtime aborted the socket).</summary>
    KeepAliveTimeout = 2,

    /// <summary>No message arrived within <see cref="ReconnectingWebSocketOptions.InactivityTimeout"/>.</summary>
    InactivityTimeout = 3,

    /// <summary>An incoming message exceeded <see cref="ReconnectingWebSocketOptions.MaxMessageSize"/>; the client closed with 1009.</summary>
    MessageTooLarge = 4,

    /// <summary>The server broke the WebSocket protocol, or sent text that is not valid UTF-8.</summary>
    ProtocolError = 5,

    /// <summary><see cref="ReconnectingWebSocket.ReconnectAsync"/> ended the session on purpose.</summary>
    ReconnectRequested = 6,

    /// <summary><see cref="ReconnectingWebSocket.StopAsync"/> ended the session, or the reconnect policy gave up.</summary>
    Stopped = 7,

    /// <summary>The client was disposed.</summary>
    Disposed = 8,

    /// <summary>No reply to the application heartbeat came within <see cref="HeartbeatOptions.Timeout"/>.</summary>
    HeartbeatTimeout = 9,

    /// <summary>A connect attempt failed (only on <see cref="ReconnectingWebSocket.StateChanges"/>, on the move to
    /// <see cref="ConnectionState.Reconnecting"/> that follows the attempt; its exception says why).</summary>
    ConnectFailed = 10,
}
