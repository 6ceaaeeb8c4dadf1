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
    Exception? Exception)
{
    /// <summary>Describes the end for a person, in one line (no stack trace; read <see cref="Exception"/> for that).</summary>
    /// <returns>For example "Session ended (closed by the server, close 1012 'service restart')" or
    /// "Session ended (connection lost): The remote party closed the WebSocket connection without completing the close handshake".</returns>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder("Session ended (").Append(Internal.Describe.Reason(Reason));
        if (CloseStatus is { } status)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $", close {(int)status}");
            if (!string.IsNullOrEmpty(CloseStatusDescription))
            {
                text.Append(" '").Append(Internal.Describe.Redact(CloseStatusDescription)).Append('\'');
            }
        }

        text.Append(')');
        if (Exception is { } exception)
        {
            text.Append(": ").Append(Internal.Describe.Cause(exception));
        }

        return text.ToString();
    }
}
