namespace Resilient.WebSockets;

/// <content>Receiving: every whole message, in order, on one hot stream.</content>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>
    /// Every message received, whole (fragments assembled), in the order the server sent them, across sessions.
    /// Hot: a subscriber gets what arrives after it subscribed. Completes on dispose; never fails.
    /// </summary>
    /// <remarks>Threading contract: observers are called one message at a time, in arrival order, on the client's
    /// dispatch loop (a thread-pool thread), or on the receive loop with <see cref="ReceiveBufferOptions.DeliverInline"/>;
    /// never while the client holds a lock, and never after <c>OnCompleted</c> (a message that arrives after dispose is
    /// reported on <see cref="Dropped"/> instead). An observer may call any member of the client, but must not block on
    /// the task of one. An observer that throws is logged, stays subscribed, and neither stops the loop nor forces a
    /// reconnect.</remarks>
    public IObservable<WebSocketMessage> Messages => _messages;
}
