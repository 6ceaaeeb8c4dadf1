using System.Net.WebSockets;

namespace Resilient.WebSockets;

/// <summary>Describes the end of a session, published on <see cref="ReconnectingWebSocket.Disconnected"/>.</summary>
/// <param name="Reason">Why the session ended.</param>
/// <param name="CloseStatus">The close code that ended the session, whichever side sent it; null when the connection ended without a close frame.</param>
/// <param name="CloseStatusDescription">The close reason text that came with <paramref name="CloseStatus"/>, if any.</param>
/// <param name="Exception">The error that ended the session, if any.</param>
public sealed record DisconnectedInfo(
    DisconnectReason Reason,
    WebSocketCloseStatus? CloseStatus,
    string? CloseStatusDescription,
    Exception? Exception);
