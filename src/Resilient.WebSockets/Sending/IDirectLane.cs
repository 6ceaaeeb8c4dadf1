using System.Net.WebSockets;

namespace Resilient.WebSockets.Sending;

/// <summary>
/// The live session's way to write a message on the sender's own thread, when nothing else is waiting or writing (the
/// awaited <c>SendAsync</c> of most apps: no hop to the send loop and back). Open only while the queue flows on a live
/// session.
/// </summary>
internal interface IDirectLane
{
    /// <summary>Takes the session's send lock if it is free now (never waits); false when something is writing.</summary>
    bool TryEnter();

    /// <summary>Writes one whole message; only after <see cref="TryEnter"/> returned true.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType);

    /// <summary>Releases the send lock taken by <see cref="TryEnter"/>.</summary>
    void Exit();

    /// <summary>The write failed: the session ends (the message already waits, first, for the next one).</summary>
    void OnFailed(Exception exception);
}
