namespace Resilient.WebSockets;

/// <summary>What a full send queue does with one more message.</summary>
public enum SendQueueFullMode
{
    /// <summary><c>SendAsync</c> waits for room (backpressure); <c>TryEnqueue</c> returns false.</summary>
    Wait = 0,

    /// <summary>The oldest queued message is dropped to make room (its <c>SendAsync</c> faults, reason <see cref="DropReason.QueueFull"/>).
    /// For feeds where only the latest state matters.</summary>
    DropOldest = 1,

    /// <summary>The most recently queued message is dropped to make room for the new one.</summary>
    DropNewest = 2,

    /// <summary>The new message is refused: <c>SendAsync</c> faults with <see cref="MessageDroppedException"/> (<see cref="DropReason.QueueFull"/>), <c>TryEnqueue</c> returns false.</summary>
    Fail = 3,
}

/// <summary>What sending does while the client has no open session.</summary>
public enum WhileDisconnectedMode
{
    /// <summary>Messages wait in the queue and go out, in order, after the reconnect.</summary>
    Buffer = 0,

    /// <summary>Fail fast: while not connected, <c>SendAsync</c> faults with <see cref="MessageDroppedException"/>
    /// (<see cref="DropReason.NotConnected"/>) and <c>TryEnqueue</c> returns false; when a session is lost, what is
    /// queued is dropped (<see cref="DropReason.Disconnected"/>).</summary>
    Fail = 1,
}

/// <summary>The queue that holds outgoing messages until a live socket writes them.</summary>
/// <remarks>
/// Text and binary messages share one queue, so they go out in the order they were accepted. Every message that is
/// not written is reported on <see cref="ReconnectingWebSocket.Dropped"/> with its reason, and its <c>SendAsync</c>
/// faults with <see cref="MessageDroppedException"/>. Read when the client is created; later changes have no effect.
/// </remarks>
public sealed class SendQueueOptions
{
    /// <summary>The largest number of messages accepted and not yet written.</summary>
    /// <value>Default: 10 000. Between 1 and 1 048 576.</value>
    public int Capacity { get; set; } = 10_000;

    /// <summary>What a full queue does with one more message.</summary>
    /// <value>Default: <see cref="SendQueueFullMode.Wait"/>.</value>
    public SendQueueFullMode FullMode { get; set; } = SendQueueFullMode.Wait;

    /// <summary>Whether messages sent while disconnected wait for the reconnect or fail at once.</summary>
    /// <value>Default: <see cref="WhileDisconnectedMode.Buffer"/>.</value>
    public WhileDisconnectedMode WhileDisconnected { get; set; } = WhileDisconnectedMode.Buffer;

    /// <summary>How long a message may wait in the queue; an older one is dropped (<see cref="DropReason.Expired"/>) instead of sent stale.</summary>
    /// <value>Default: null (no limit). When set, greater than zero. An expired message is reported within a quarter of this
    /// time after it expires, also while disconnected.</value>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Whether <see cref="ReconnectingWebSocket.StopAsync"/> writes what is queued before its close frame.</summary>
    /// <value>Default: <see langword="true"/> (for as long as the stop's cancellation token allows; what is left stays queued
    /// for the next start). When false, what is queued is dropped at the stop (<see cref="DropReason.Stopped"/>).</value>
    public bool FlushOnStop { get; set; } = true;

    internal SendQueueOptions Clone() => (SendQueueOptions)MemberwiseClone();
}
