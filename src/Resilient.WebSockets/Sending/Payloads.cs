using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets.Sending;

/// <summary>How every outgoing payload is made: text is encoded here, and only here, into a pooled buffer; bytes are
/// copied into one when the caller may reuse theirs at once, or borrowed when the caller waits for the write.</summary>
internal static class Payloads
{
    private const int MaxPooledPayload = 64 * 1024;
    private const int MaxPooledBuffersPerSize = 4096;

    /// <summary>Buffers for queued payloads, shared by every client: a busy queue's worth is reused instead of allocated
    /// (the runtime's shared pool keeps only a few arrays per size and core, far fewer than a busy queue holds). Created on
    /// first use, so a process that never queues a copy pays nothing; it keeps at most 4 096 arrays per size class.</summary>
    private static readonly Lazy<ArrayPool<byte>> SharedPool = new(() => ArrayPool<byte>.Create(MaxPooledPayload, MaxPooledBuffersPerSize));

    public static ArrayPool<byte> Pool => SharedPool.Value;

    /// <summary>Text as UTF-8 in a pooled buffer (given back by <see cref="OutgoingMessage.ReturnBuffer"/>).</summary>
    public static OutgoingMessage Text(string text, PendingSend? completion)
    {
        byte[] buffer = Pool.Rent(Math.Max(Encoding.UTF8.GetMaxByteCount(text.Length), 1));
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
