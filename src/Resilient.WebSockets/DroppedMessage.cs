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

    /// <summary>A reliable message was given up: no ack after <see cref="DeliveryOptions.MaxAttempts"/> writes, or within
    /// <see cref="DeliveryOptions.DeliveryTimeout"/> of its acceptance (<see cref="DroppedMessage.Detail"/> says which).</summary>
    NotAcknowledged = 9,

    /// <summary>The server rejected a reliable message (<see cref="MessageAck.Rejected"/>); it is never written again.
    /// <see cref="DroppedMessage.Detail"/> carries the server's reason.</summary>
    Rejected = 10,

    /// <summary>An incoming message repeated one already received within the de-duplication window (<c>options.Deduplication</c>).</summary>
    Duplicate = 11,

    /// <summary>An incoming message that <c>Json&lt;T&gt;</c> could not parse as the type it reads: that subscription
    /// skipped it and lives on (<see cref="DroppedMessage.Detail"/> names the type and where the JSON went wrong; never
    /// the payload). Reported only when the operator was given no <c>onError</c>.</summary>
    InvalidJson = 12,
}

/// <summary>A message that was not delivered, published on <see cref="ReconnectingWebSocket.Dropped"/>.</summary>
/// <remarks>The payload is not included: the stream reports what was lost and why, and logs stay free of user data.</remarks>
/// <param name="Direction">Whether the message was outgoing or incoming.</param>
/// <param name="MessageType">Text or binary.</param>
/// <param name="Length">The payload length in bytes.</param>
/// <param name="Reason">Why it was not delivered.</param>
public sealed record DroppedMessage(MessageDirection Direction, WebSocketMessageType MessageType, int Length, DropReason Reason)
{
    /// <summary>The message's id: the app's id of a reliable message, or the id a de-duplicated incoming message carried; null for plain messages.</summary>
    public string? MessageId { get; init; }

    /// <summary>How many times a reliable message was written before it was dropped; 0 for plain messages.</summary>
    public int Attempts { get; init; }

    /// <summary>More about the reason, when there is more: which bound gave a reliable message up, or the server's reason for a rejection.</summary>
    public string? Detail { get; init; }

    /// <summary>Describes the drop for a person (never the payload).</summary>
    /// <returns>For example "Outgoing text message of 5 bytes dropped: the send queue was full", or for a reliable message
    /// "Outgoing text message order-7 of 5 bytes dropped after 5 attempts: the server did not acknowledge it (no ack after 5 writes (Delivery.MaxAttempts))".</returns>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Direction} {(MessageType == WebSocketMessageType.Text ? "text" : "binary")} message{(MessageId is null ? "" : " " + MessageId)} of {Length} bytes dropped{(Attempts > 0 ? $" after {Attempts} attempt{(Attempts == 1 ? "" : "s")}" : "")}: {Internal.Describe.Drop(Reason, MessageId is not null && Direction == MessageDirection.Outgoing)}{(Detail is null ? "" : $" ({Detail})")}");
}

/// <summary>A send whose message was accepted and then dropped before it was written (or, for a reliable message, before
/// it was acknowledged), or that a full queue or outbox refused.</summary>
public sealed class MessageDroppedException : Exception
{
    /// <summary>Creates the exception for a message dropped for <paramref name="reason"/>.</summary>
    /// <param name="reason">Why the message was dropped.</param>
    public MessageDroppedException(DropReason reason)
        : this(reason, detail: null)
    {
    }

    /// <summary>Creates the exception for a message dropped for <paramref name="reason"/>, with more about it.</summary>
    /// <param name="reason">Why the message was dropped.</param>
    /// <param name="detail">More about the reason (see <see cref="DroppedMessage.Detail"/>), or null.</param>
    public MessageDroppedException(DropReason reason, string? detail)
    {
        Reason = reason;
        Detail = detail;
    }

    /// <summary>Why the message was dropped.</summary>
    public DropReason Reason { get; }

    /// <summary>More about the reason, or null (see <see cref="DroppedMessage.Detail"/>).</summary>
    public string? Detail { get; }

    /// <summary>The id of a reliable message; null for a plain one.</summary>
    public string? MessageId { get; init; }

    /// <summary>How many times a reliable message was written; 0 for a plain one.</summary>
    public int Attempts { get; init; }

    /// <inheritdoc/>
    public override string Message => MessageId is null
        ? SR.Format(SR.MessageDropped, Internal.Describe.Drop(Reason) + (Detail is null ? "" : $" ({Detail})"))
        : SR.Format(SR.ReliableDropped, MessageId, Internal.Describe.Drop(Reason, reliable: true) + (Detail is null ? "" : $" ({Detail})"));
}
