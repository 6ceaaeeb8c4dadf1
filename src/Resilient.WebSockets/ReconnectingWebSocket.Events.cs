namespace Resilient.WebSockets;

/// <content>Events: what happened to the connection and to messages not delivered, through one event pump.</content>
/// <remarks>
/// Threading contract of <see cref="StateChanges"/>, <see cref="Connected"/>, <see cref="Disconnected"/> and
/// <see cref="Dropped"/>: they share one event pump per client. Their observers are called one at a time (never
/// concurrently, also across the four streams), on a thread-pool thread, in the order the events happened, each event
/// to every observer before the next; and never while the client holds a lock. An observer may call any member of the
/// client, <see cref="StopAsync"/>, <see cref="ReconnectAsync"/> and <see cref="DisposeAsync"/> included: the call
/// returns at once, and its task completes after the observer has returned. So never block an observer on such a
/// task (<c>.Wait()</c>, <c>.Result</c>): that is the one way to hang the client. An observer that throws is logged,
/// stays subscribed, and affects no other observer.
/// <para>Observers slower than the events (a million drops from a tight loop of <c>TryEnqueue</c>, a server flooding a
/// full receive buffer) cannot make the client's memory grow without bound: while more than 4096 events wait for them,
/// a send (or the receive loop) waits until half of those are delivered. It never waits when called from an observer,
/// nor for observers that have made no progress for about 100 ms (so an observer waiting on a lock your sending thread
/// holds slows that thread down once, and does not hang it).</para>
/// </remarks>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>Every move of <see cref="State"/>, in order, each once, to every observer (also when an observer's own
    /// call moves the state again: that move follows the one being observed). A new subscriber first gets the latest
    /// move, so it learns the current state (before <c>Subscribe</c> returns when no event is being delivered at that
    /// moment; otherwise right after the events in flight). Completes on dispose.</summary>
    /// <remarks>Delivered through the client's event pump: one observer call at a time, never under a lock of the
    /// client; an observer may call any member of the client, but must not block on the task of one.</remarks>
    public IObservable<ConnectionStateChange> StateChanges => _events.StateChanges;

    /// <summary>Every successful connect, the first and each reconnect, after <see cref="ReconnectingWebSocketOptions.OnConnected"/> succeeded.
    /// <see cref="StartAsync"/> and <see cref="ReconnectAsync"/> complete after it was delivered. Completes on dispose.</summary>
    /// <remarks>Delivered through the client's event pump (see <see cref="StateChanges"/>).</remarks>
    public IObservable<ConnectedInfo> Connected => _events.Connected;

    /// <summary>Every end of a session, with why. Always after the <see cref="Connected"/> of the same session, and after
    /// the last message of that session reached the observers of <see cref="Messages"/>; a failed connect attempt publishes
    /// none (see <see cref="StateChanges"/> for those). Completes on dispose.</summary>
    /// <remarks>Delivered through the client's event pump (see <see cref="StateChanges"/>).</remarks>
    public IObservable<DisconnectedInfo> Disconnected => _events.Disconnected;

    /// <summary>Every message not delivered, with why, either way: nothing is lost without a trace here. Completes on dispose.</summary>
    /// <remarks>Delivered through the client's event pump (see <see cref="StateChanges"/>); a drop decided under the send
    /// queue's lock reaches the observers after that lock is released.</remarks>
    public IObservable<DroppedMessage> Dropped => _events.Dropped;
}
