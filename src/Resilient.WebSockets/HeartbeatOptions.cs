using System.Net.WebSockets;

namespace Resilient.WebSockets;

/// <summary>
/// An application-level heartbeat, for servers that expect a message such as "ping" and answer with one such as "pong".
/// Unlike the protocol keep-alive, it works the same on every runtime (net8 included) and proves that the server's
/// application, not only its TCP stack, is alive.
/// </summary>
/// <remarks>
/// On every session, after <see cref="Interval"/> the client sends <see cref="Message"/> (ahead of the send queue,
/// between two queued messages) and waits up to <see cref="Timeout"/> for a message that <see cref="IsReply"/>
/// recognises; if none comes, the session ends with <see cref="DisconnectReason.HeartbeatTimeout"/> and the client
/// reconnects. Read when the client is created; later changes have no effect.
/// </remarks>
public sealed class HeartbeatOptions
{
    /// <summary>How long after the last heartbeat (or the connect) the next is sent.</summary>
    /// <value>Default: 15 seconds. Greater than zero.</value>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the reply may take, from the moment the heartbeat is handed to the socket (a write that cannot
    /// finish, as on a dead link with a full send buffer, counts against it too).</summary>
    /// <value>Default: 15 seconds. Greater than zero.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The heartbeat message, sent as text.</summary>
    /// <value>Default: "ping".</value>
    public string Message { get; set; } = "ping";

    /// <summary>Recognises the server's reply.</summary>
    /// <value>Default: a text message equal to "pong".</value>
    public Func<WebSocketMessage, bool> IsReply { get; set; } = static message =>
        message.MessageType == WebSocketMessageType.Text && message.Text == "pong";

    /// <summary>Whether replies are also published on <see cref="ReconnectingWebSocket.Messages"/>.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool PublishReplies { get; set; }

    internal HeartbeatOptions Clone() => (HeartbeatOptions)MemberwiseClone();
}
