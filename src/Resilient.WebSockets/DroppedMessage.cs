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

    /// <summary>The send queue was full: the message was refused, or evicted to make room (see <see cref="SendQueueFullMode"/>).</summary>
    QueueFull = 2,

    /// <summary>Sent while not connected, with <see cref="WhileDisconnectedMode.Fail"/>.</summary>
    NotConnected = 3,

    /// <summary>Queued when the session was lost, with <see cref="WhileDisconnectedMode.Fail"/>.</summary>
    Disconnected = 4,

    /// <summary>It waited longer than <see cref="SendQueueOptions.TimeToLive"/>.</summary>
    Expired = 5,

    /// <summary>Queued at a <see cref="ReconnectingWebSocket.StopAsync"/> with <see cref="SendQueueOptions.FlushOnStop"/> off.</summary>
    Stopped = 6,

    /// <summary>An incoming message found the receive buffer full (see <see cref="ReceiveBufferOptions.FullMode"/>).</summary>
    ReceiveBufferFull = 7,

    /// <summary>An incoming message grew past <see cref="ReconnectingWebSocketOptions.MaxMessageSize"/>: nothing of it
    /// was published, and the session was closed with 1009. The reported length is what had arrived when the limit was
    /// crossed (more than the limit, less than the whole message).</summary>
    MessageTooLarge = 8,
}

/// <summary>A message that was not delivered, published on <see cref="ReconnectingWebSocket.Dropped"/>.</summary>
/// <remarks>The payload is not included: the stream reports what was lost and why, and logs stay free of user data.</remarks>
/// <param name="Direction">Whether the message was outgoing or incoming.</param>
/// <param name="MessageType">Text or binary.</param>
/// <param name="Length">The payload length in bytes.</param>
/// <param name="Reason">Why it was not delivered.</param>
public sealed record DroppedMessage(MessageDirection Direction, WebSocketMessageType MessageType, int Length, DropReason Reason)
{
    /// <summary>Describes the drop for a person (never the payload).</summary>
    /// <returns>For example "Outgoing text message of 5 bytes dropped: the send queue was full".</returns>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Direction} {(MessageType == WebSocketMessageType.Text ? "text" : "binary")} message of {Length} bytes dropped: {Internal.Describe.Drop(Reason)}");
}

/// <summary>A <see cref="ReconnectingWebSocket.SendAsync(string, CancellationToken)"/> whose message was accepted and then dropped before it was written.</summary>
public sealed class MessageDroppedException : Exception
{
    /// <summary>Creates the exception for a message dropped for <paramref name="reason"/>.</summary>
    /// <param name="reason">Why the message was dropped.</param>
    public MessageDroppedException(DropReason reason)
        : base(SR.Format(SR.MessageDropped, Internal.Describe.Drop(reason)))
    {
        Reason = reason;
    }

    /// <summary>Why the message was dropped.</summary>
    public DropReason Reason { get; }

}
