using System.Net.WebSockets;

namespace Resilient.WebSockets;

/// <summary>Which way a dropped message was going.</summary>
public enum MessageDirection
{
    /// <summary>A message the app asked to send.</summary>
    Outgoing = 0,

    /// <summary>A message the server sent.</summary>
    Incoming = 1,
}

/// <summary>Why a message was not delivered.</summary>
public enum DropReason
{
    /// <summary><see cref="ReconnectingWebSocket.ClearPendingSends"/> removed it from the send queue.</summary>
    Cleared = 0,

    /// <summary>The client was disposed before the message was written.</summary>
    Disposed = 1,
}

/// <summary>A message that was not delivered, published on <see cref="ReconnectingWebSocket.Dropped"/>.</summary>
/// <remarks>The payload is not included: the stream reports what was lost and why, and logs stay free of user data.</remarks>
/// <param name="Direction">Whether the message was outgoing or incoming.</param>
/// <param name="MessageType">Text or binary.</param>
/// <param name="Length">The payload length in bytes.</param>
/// <param name="Reason">Why it was not delivered.</param>
public sealed record DroppedMessage(MessageDirection Direction, WebSocketMessageType MessageType, int Length, DropReason Reason);

/// <summary>A <see cref="ReconnectingWebSocket.SendAsync(string, CancellationToken)"/> whose message was accepted and then dropped before it was written.</summary>
public sealed class MessageDroppedException : Exception
{
    /// <summary>Creates the exception for a message dropped for <paramref name="reason"/>.</summary>
    /// <param name="reason">Why the message was dropped.</param>
    public MessageDroppedException(DropReason reason)
        : base(SR.Format(SR.MessageDropped, Describe(reason)))
    {
        Reason = reason;
    }

    /// <summary>Why the message was dropped.</summary>
    public DropReason Reason { get; }

    private static string Describe(DropReason reason) => reason switch
    {
        DropReason.Cleared => SR.DropCleared,
        DropReason.Disposed => SR.DropDisposed,
        _ => reason.ToString(),
    };
}
