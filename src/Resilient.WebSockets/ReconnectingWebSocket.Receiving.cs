namespace Resilient.WebSockets;

/// <content>Receiving: every whole message, in order, on one hot stream.</content>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>
    /// Every message received, whole (fragments assembled), in the order the server sent them, across sessions.
    /// Hot: a subscriber gets what arrives after it subscribed. Completes on dispose; never fails.
    /// </summary>
    /// <remarks>Observers run on the receive loop, one message at a time. An observer that throws is logged, stays
    /// subscribed, and neither stops the loop nor forces a reconnect.</remarks>
    public IObservable<WebSocketMessage> Messages => _messages;
}
