using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets.Sending;

/// <summary>How every outgoing payload is made: text is encoded here, and only here, into a pooled buffer; bytes are
/// copied into one when the caller may reuse theirs at once, or borrowed when the caller waits for the write.</summary>
internal static class Payloads
{
    /// <summary>Buffers for queued payloads, shared by every client, bounded by the bytes kept (see
    /// <see cref="PayloadPool"/>). Created on first use, so a process that never queues a copy pays nothing.</summary>
    private static readonly Lazy<PayloadPool> SharedPool = new(() => new PayloadPool());

    public static ArrayPool<byte> Pool => SharedPool.Value;

    /// <summary>Text as UTF-8 in a pooled buffer of its exact size class (given back by
    /// <see cref="OutgoingMessage.ReturnBuffer"/>): counting the bytes first keeps a queued 1 KiB text in 1 KiB, not in
    /// the 4 KiB its worst case would need.</summary>
    public static OutgoingMessage Text(string text, PendingSend? completion)
    {
        byte[] buffer = Pool.Rent(Math.Max(Encoding.UTF8.GetByteCount(text), 1));
        int length = Encoding.UTF8.GetBytes(text, buffer);
        return new OutgoingMessage(buffer.AsMemory(0, length), WebSocketMessageType.Text, buffer, completion, pool: Pool);
    }

    /// <summary>A pooled copy of <paramref name="data"/>, so the caller may reuse its buffer at once.</summary>
    public static OutgoingMessage Copy(ReadOnlyMemory<byte> data, WebSocketMessageType messageType)
    {
        byte[] buffer = Pool.Rent(Math.Max(data.Length, 1));
        data.Span.CopyTo(buffer);
        return new OutgoingMessage(buffer.AsMemory(0, data.Length), messageType, buffer, completion: null, pool: Pool);
    }

    /// <summary>The caller's own bytes, not copied: the caller keeps them unchanged until the send completes.</summary>
    public static OutgoingMessage Borrow(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, PendingSend? completion) =>
        new(data, messageType, rentedBuffer: null, completion);
}
