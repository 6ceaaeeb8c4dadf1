namespace Resilient.WebSockets;

/// <summary>
/// Acknowledged delivery: messages sent with <see cref="ReconnectingWebSocket.SendReliableAsync(string, string, CancellationToken)"/>
/// or <see cref="ReconnectingWebSocket.EnqueueReliableAsync(string, string, CancellationToken)"/> stay in the client's
/// outbox until the server acknowledges them, and are written again after every reconnect and after an ack timeout, so a
/// message that died in a kernel buffer with the link is not lost. Works with any server protocol that acknowledges
/// messages by an id: <see cref="ReadAck"/> tells the client which incoming message acknowledges which outgoing one.
/// </summary>
/// <remarks>
/// <para>Order on the wire: after every reconnect, <see cref="ReconnectingWebSocketOptions.OnConnected"/>'s sends first,
/// then every unacknowledged reliable message in acceptance order, then the send queue. While connected, a reliable
/// message that is due (new, or its ack timed out) goes ahead of the plain messages queued behind it, as long as fewer
/// than <see cref="MaxInFlight"/> wait for their ack.</para>
/// <para>Reliable messages are at least once: the server may see one twice (a resend after a lost ack), so it should
/// de-duplicate by the id. They are never evicted by the send queue's full modes, time-to-live or
/// <see cref="SendQueueOptions.WhileDisconnected"/>; only an ack, a rejection, <see cref="MaxAttempts"/>,
/// <see cref="DeliveryTimeout"/> or disposing the client (without a <see cref="Store"/>) ends one, and every end other
/// than the ack is reported on <see cref="ReconnectingWebSocket.Dropped"/>.</para>
/// </remarks>
public sealed class DeliveryOptions
{
    /// <summary>The largest <see cref="Capacity"/>.</summary>
    public const int MaxCapacity = 1_000_000;

    /// <summary>Reads an incoming message: the ack it carries (<see cref="MessageAck.Accepted"/> or
    /// <see cref="MessageAck.Rejected"/>, with the id the app gave the message), or null when it is not an ack. Required.</summary>
    /// <remarks>Called on the receive loop for every incoming message, so keep it quick; one that throws is logged and the
    /// message is treated as not an ack. Acks are not published on <see cref="ReconnectingWebSocket.Messages"/> unless
    /// <see cref="PublishAcks"/>.</remarks>
    public Func<WebSocketMessage, MessageAck?>? ReadAck { get; set; }

    /// <summary>How many accepted, unacknowledged messages the outbox holds.</summary>
    /// <value>Default: 10 000. Between 1 and <see cref="MaxCapacity"/>.</value>
    public int Capacity { get; set; } = 10_000;

    /// <summary>How many payload bytes the outbox holds, over all its messages. A single message larger than this is
    /// refused at the call with an <see cref="ArgumentException"/>.</summary>
    /// <value>Default: 16 MiB. At least 1.</value>
    public long MaxBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>What a reliable send does when the outbox is full (by count or by bytes).</summary>
    /// <value>Default: <see cref="OutboxFullMode.Wait"/>.</value>
    public OutboxFullMode FullMode { get; set; } = OutboxFullMode.Wait;

    /// <summary>How many messages may be written and waiting for their ack at once; 1 is stop-and-wait.</summary>
    /// <value>Default: null, which is <see cref="Capacity"/>. When set, between 1 and <see cref="Capacity"/>.</value>
    public int? MaxInFlight { get; set; }

    /// <summary>How long the client waits for the ack of a write while connected before it writes the message again.</summary>
    /// <value>Default: 10 seconds. Greater than zero, or <see cref="Timeout.InfiniteTimeSpan"/> to resend only after reconnects.</value>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a message is written at most, the resends after reconnects included; then it is given up
    /// (<see cref="DropReason.NotAcknowledged"/>).</summary>
    /// <value>Default: 5. At least 1.</value>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long a message may take from acceptance to its ack, outages included; then it is given up
    /// (<see cref="DropReason.NotAcknowledged"/>).</summary>
    /// <value>Default: null (no bound but <see cref="MaxAttempts"/>). When set, greater than zero.</value>
    public TimeSpan? DeliveryTimeout { get; set; }

    /// <summary>Whether acks are also published on <see cref="ReconnectingWebSocket.Messages"/>.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool PublishAcks { get; set; }

    /// <summary>Where accepted messages are kept so that they survive a crash of the app: every message accepted and not
    /// acknowledged before the process ended is written again after the next start (after
    /// <see cref="ReconnectingWebSocketOptions.OnConnected"/>). One store per client; it is disposed with the client.</summary>
    /// <value>Default: null (memory only). See <see cref="FileOutboxStore"/>.</value>
    public IOutboxStore? Store { get; set; }

    internal DeliveryOptions Clone() => (DeliveryOptions)MemberwiseClone();
}

/// <summary>What a reliable send does when the outbox is full.</summary>
public enum OutboxFullMode
{
    /// <summary>Wait for room (an ack, or a message given up); the caller's token ends the wait.</summary>
    Wait = 0,

    /// <summary>Refuse the message: the call throws <see cref="MessageDroppedException"/> with <see cref="DropReason.QueueFull"/>, and it is reported on <see cref="ReconnectingWebSocket.Dropped"/>.</summary>
    Fail = 1,
}

/// <summary>An ack read from an incoming message by <see cref="DeliveryOptions.ReadAck"/>.</summary>
public readonly record struct MessageAck
{
    private MessageAck(string messageId, bool isRejected, string? detail)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        MessageId = messageId;
        IsRejected = isRejected;
        Detail = detail;
    }

    /// <summary>The id of the acknowledged message, as the app gave it.</summary>
    public string MessageId { get; }

    /// <summary>Whether the server refused the message: it is never written again, and its send fails with <see cref="DropReason.Rejected"/>.</summary>
    public bool IsRejected { get; }

    /// <summary>The server's reason for a rejection, when it gave one.</summary>
    public string? Detail { get; }

    /// <summary>The server has the message.</summary>
    /// <param name="messageId">The message's id.</param>
    /// <returns>The ack.</returns>
    /// <exception cref="ArgumentException"><paramref name="messageId"/> is null or empty.</exception>
    public static MessageAck Accepted(string messageId) => new(messageId, isRejected: false, detail: null);

    /// <summary>The server refused the message; it is not written again.</summary>
    /// <param name="messageId">The message's id.</param>
    /// <param name="detail">The server's reason, for the exception and <see cref="DroppedMessage.Detail"/>.</param>
    /// <returns>The rejection.</returns>
    /// <exception cref="ArgumentException"><paramref name="messageId"/> is null or empty.</exception>
    public static MessageAck Rejected(string messageId, string? detail = null) => new(messageId, isRejected: true, detail);
}

/// <summary>A reliable message the server acknowledged, published on <see cref="ReconnectingWebSocket.Acknowledged"/>.</summary>
/// <param name="MessageId">The id the app gave it.</param>
/// <param name="Attempts">How many times it was written (1 when the first write was acknowledged).</param>
/// <param name="Latency">From acceptance to the ack, outages included.</param>
public sealed record AcknowledgedMessage(string MessageId, int Attempts, TimeSpan Latency);
