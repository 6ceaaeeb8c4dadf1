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
    Exception? Exception)
{
    /// <summary>On a move to <see cref="ConnectionState.Reconnecting"/>: how long the client waits before its next
    /// attempt. Null when no attempt follows (the policy gives up, or the error is not retried), on other moves, and
    /// when an app's <see cref="ReconnectOptions.Pipeline"/> decides the delays (the client does not know them).</summary>
    public TimeSpan? NextAttemptIn { get; init; }

    /// <summary>Describes the move for a person, in one line, with its cause and what comes next; never a URL's query
    /// string or user info.</summary>
    /// <returns>For example "Reconnecting in 2.1 s (connect failed): Unable to connect to the remote server: Connection refused (127.0.0.1:5000)".</returns>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder(Current.ToString());
        if (NextAttemptIn is { } delay)
        {
            text.Append(" in ").Append(Internal.Describe.Duration(delay));
        }

        if (Reason is { } reason)
        {
            text.Append(" (").Append(Internal.Describe.Reason(reason)).Append(')');
        }

        if (Exception is { } exception)
        {
            text.Append(": ").Append(Internal.Describe.Cause(exception));
        }

        return text.ToString();
    }
}
