using System.Net.WebSockets;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets;

/// <content>Sending: one bounded queue for text and binary, in call order, surviving reconnects.</content>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>Messages accepted and not yet written to a socket (or dropped): those waiting in the queue, and those held
    /// in a coalesced batch whose one write has not completed yet (their <c>SendAsync</c> has not completed either). So it
    /// is at most <see cref="SendQueueOptions.Capacity"/> plus one batch (128 messages). A <c>SendAsync</c> still waiting
    /// for room in a full queue is not counted.</summary>
    public int PendingSendCount => _sender.Queue.Count;

    /// <summary>
    /// Queues a text message and completes when it has been written to a live socket. While disconnected the message
    /// waits in the queue and goes out after the reconnect (after <see cref="ReconnectingWebSocketOptions.OnConnected"/>),
    /// in call order. When the queue is full, waits for room.
    /// </summary>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <param name="cancellationToken">Cancels waiting for room, and withdraws the message if its write has not begun.
    /// A message whose write has begun is not withdrawn: the task then completes with the write.</param>
    /// <returns>A task that completes when the message is written (not when the server has processed it).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    /// <exception cref="MessageDroppedException">The message was accepted and then dropped, for example by <see cref="ClearPendingSends"/> (the task faults).</exception>
    /// <remarks>If the connection drops while the message is being written, it is written again, first, on the next session:
    /// delivery is at least once for the message in flight at the moment of a drop.</remarks>
    public ValueTask SendAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Admit(WebSocketMessageType.Text, text.Length, cancellationToken) is { } ended ? new ValueTask(ended) : _sender.SendAsync(TextPayload(text), cancellationToken);
    }

    /// <summary>Queues a message of bytes and completes when it has been written to a live socket; see <see cref="SendAsync(string, CancellationToken)"/>.</summary>
    /// <param name="data">The payload. It is not copied: leave it unchanged until the task completes.</param>
    /// <param name="messageType">Binary (the default) or Text (then <paramref name="data"/> must be UTF-8).</param>
    /// <param name="cancellationToken">Cancels waiting for room, and withdraws the message if its write has not begun.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not Text or Binary.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    /// <exception cref="MessageDroppedException">The message was accepted and then dropped (the task faults).</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType = WebSocketMessageType.Binary, CancellationToken cancellationToken = default)
    {
        ValidateMessageType(messageType);
        return Admit(messageType, data.Length, cancellationToken) is { } ended ? new ValueTask(ended) : _sender.SendAsync(Payloads.Borrow(data, messageType, completion: null), cancellationToken);
    }

    /// <summary>Queues a text message if there is room now, without waiting.</summary>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <returns>True if the message was accepted (it will be written in order, or reported on <see cref="Dropped"/>); false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public bool TryEnqueue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CanEnqueue(WebSocketMessageType.Text, text.Length) && _sender.TryEnqueue(TextPayload(text));
    }

    /// <summary>Queues a message of bytes if there is room now, without waiting. The bytes are copied, so the caller may reuse <paramref name="data"/> at once.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="messageType">Binary (the default) or Text (then <paramref name="data"/> must be UTF-8).</param>
    /// <returns>True if the message was accepted; false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not Text or Binary.</exception>
    public bool TryEnqueue(ReadOnlyMemory<byte> data, WebSocketMessageType messageType = WebSocketMessageType.Binary)
    {
        ValidateMessageType(messageType);
        return CanEnqueue(messageType, data.Length) && _sender.TryEnqueue(Payloads.Copy(data, messageType));
    }

    /// <summary>Removes every queued message: each is reported on <see cref="Dropped"/> and its <c>SendAsync</c> faults with
    /// <see cref="MessageDroppedException"/>. A message being written at that moment is not removed.</summary>
    /// <returns>How many messages were removed.</returns>
    public int ClearPendingSends() => _sender.Clear(DropReason.Cleared);

    /// <summary>
    /// What every send checks before its message is made: null to go on, or the finished task that ends the send (disposed,
    /// cancelled, or refused while disconnected with <see cref="WhileDisconnectedMode.Fail"/>). Waits first while the
    /// observers are far behind, which bounds the reports of drops still waiting for them (see <c>EventPump</c>).
    /// </summary>
    private Task? Admit(WebSocketMessageType messageType, int length, CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            return Task.FromException(new ObjectDisposedException(GetType().FullName));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        _events.Pump.WaitForRoom();
        return _sender.Refuse(messageType, length) is { } refused ? Task.FromException(refused) : null;
    }

    /// <summary>What every <c>TryEnqueue</c> checks before its message is made: false when disposed or refused (see <see cref="Admit"/>).</summary>
    private bool CanEnqueue(WebSocketMessageType messageType, int length)
    {
        if (_disposed)
        {
            return false;
        }

        _events.Pump.WaitForRoom();
        return _sender.Refuse(messageType, length) is null;
    }

    /// <summary>A text message as it goes out: its UTF-8, or with the envelope a plain <c>msg</c> frame around it.</summary>
    private OutgoingMessage TextPayload(string text) => _envelope is null
        ? Payloads.Text(text, completion: null)
        : Payloads.Borrow(EnvelopeCodec.Write(EnvelopeType.Message, id: null, text), WebSocketMessageType.Text, completion: null);

    internal static void ValidateMessageType(WebSocketMessageType messageType)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType), messageType, SR.Format(SR.MessageTypeInvalid, messageType));
        }
    }
}
