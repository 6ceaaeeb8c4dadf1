namespace Resilient.WebSockets;

/// <summary>One move of <see cref="ReconnectingWebSocket.State"/>, as published on <see cref="ReconnectingWebSocket.StateChanges"/>.</summary>
/// <param name="Previous">The state before the move.</param>
/// <param name="Current">The state after the move.</param>
/// <param name="Reason">Why a session ended or the client stopped; null for moves that end nothing (such as into <see cref="ConnectionState.Connecting"/>).</param>
/// <param name="Exception">The error behind the move, if any: a failed connect attempt, a lost connection, the exception that made the reconnect policy give up.</param>
public sealed record ConnectionStateChange(
    ConnectionState Previous,
    ConnectionState Current,
    DisconnectReason? Reason,
    Exception? Exception);
