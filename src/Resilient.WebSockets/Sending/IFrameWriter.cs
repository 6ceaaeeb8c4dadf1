using System.Net.WebSockets;

namespace Resilient.WebSockets.Sending;

/// <summary>The seam between the send loop and a session's socket: write one whole message, and (on a coalescing
/// transport) hold it in a batch that <see cref="FlushAsync"/> writes in one go.</summary>
/// <remarks>Only the send loop of one session calls these, one call at a time. A failure means the socket is broken.</remarks>
internal interface IFrameWriter
{
    /// <summary>Whether <see cref="WriteAsync"/> with <c>hold</c> really holds (a coalescing transport).</summary>
    bool CanHold { get; }

    /// <summary>Whether the held batch should be written now (its bytes or messages reached the batch limit).</summary>
    bool BatchFull(int heldMessages);

    /// <summary>Writes one whole message; with <paramref name="hold"/> on a coalescing transport it is only buffered.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool hold);

    /// <summary>Writes what is held, in one write.</summary>
    ValueTask FlushAsync();
}
