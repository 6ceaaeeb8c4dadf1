using System.Buffers;
using System.Net.WebSockets;

namespace Resilient.WebSockets.Sending;

/// <summary>One message in the send queue: its bytes, its type, the pooled buffer to give back, and the completion of the
/// <c>SendAsync</c> that queued it (null for <c>TryEnqueue</c>).</summary>
internal readonly struct OutgoingMessage
{
    /// <summary>A reliable message from the outbox, on its way through the send loop.</summary>
    public OutgoingMessage(Delivery.ReliableMessage reliable)
        : this(reliable.Data, reliable.MessageType, rentedBuffer: null, completion: null)
    {
        Reliable = reliable;
    }

    public OutgoingMessage(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, byte[]? rentedBuffer, PendingSend? completion, long timestamp = 0, ArrayPool<byte>? pool = null)
    {
        Data = data;
        MessageType = messageType;
        RentedBuffer = rentedBuffer;
        Completion = completion;
        Timestamp = timestamp;
        Pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>The pool <see cref="RentedBuffer"/> came from.</summary>
    public ArrayPool<byte> Pool { get; }

    public ReadOnlyMemory<byte> Data { get; }

    public WebSocketMessageType MessageType { get; }

    public byte[]? RentedBuffer { get; }

    public PendingSend? Completion { get; }

    /// <summary>Set for a message of the outbox: its write is settled there, not in the send queue.</summary>
    public Delivery.ReliableMessage? Reliable { get; }

    /// <summary>When the queue accepted it (a <see cref="TimeProvider"/> timestamp); set only when a time-to-live applies.</summary>
    public long Timestamp { get; }

    public OutgoingMessage WithTimestamp(long timestamp) => new(Data, MessageType, RentedBuffer, Completion, timestamp, Pool);

    public OutgoingMessage WithCompletion(PendingSend completion) => new(Data, MessageType, RentedBuffer, completion, Timestamp, Pool);

    /// <summary>Gives the pooled buffer back; call once, when the message is written or dropped.</summary>
    public void ReturnBuffer()
    {
        if (RentedBuffer is not null)
        {
            Pool.Return(RentedBuffer);
        }
    }
}
