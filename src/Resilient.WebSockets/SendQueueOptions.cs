namespace Resilient.WebSockets;

/// <summary>The queue that holds outgoing messages until a live socket writes them.</summary>
/// <remarks>
/// Text and binary messages share one queue, so they go out in the order they were accepted.
/// Read when the client is created; later changes have no effect.
/// </remarks>
public sealed class SendQueueOptions
{
    /// <summary>The largest number of messages accepted and not yet written.</summary>
    /// <value>Default: 10 000. Between 1 and 1 048 576. When the queue is full, <see cref="ReconnectingWebSocket.SendAsync(string, CancellationToken)"/>
    /// waits for room and <see cref="ReconnectingWebSocket.TryEnqueue(string)"/> returns false.</value>
    public int Capacity { get; set; } = 10_000;

    internal SendQueueOptions Clone() => (SendQueueOptions)MemberwiseClone();
}
