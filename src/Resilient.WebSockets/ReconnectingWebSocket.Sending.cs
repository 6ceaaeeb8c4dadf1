using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets;

/// <content>Sending: one bounded queue for text and binary, in call order, surviving reconnects.</content>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>Messages accepted and not yet written to a socket (or dropped).</summary>
    public int PendingSendCount => _sendQueue.Count;

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
        if (_disposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(GetType().FullName));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (RefusedWhileDisconnected(WebSocketMessageType.Text, text.Length) is { } refused)
        {
            return ValueTask.FromException(refused);
        }

        var (buffer, length) = Encode(text);
        return SendCoreAsync(new OutgoingMessage(buffer.AsMemory(0, length), WebSocketMessageType.Text, buffer, new PendingSend(), pool: SendBuffers), cancellationToken);
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
        if (_disposed)
        {
            return ValueTask.FromException(new ObjectDisposedException(GetType().FullName));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (RefusedWhileDisconnected(messageType, data.Length) is { } refused)
        {
            return ValueTask.FromException(refused);
        }

        return SendCoreAsync(new OutgoingMessage(data, messageType, rentedBuffer: null, new PendingSend()), cancellationToken);
    }

    /// <summary>Queues a text message if there is room now, without waiting.</summary>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <returns>True if the message was accepted (it will be written in order, or reported on <see cref="Dropped"/>); false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public bool TryEnqueue(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_disposed)
        {
            return false;
        }

        if (RefusedWhileDisconnected(WebSocketMessageType.Text, text.Length) is not null)
        {
            return false;
        }

        var (buffer, length) = Encode(text);
        return TryEnqueueCore(new OutgoingMessage(buffer.AsMemory(0, length), WebSocketMessageType.Text, buffer, completion: null, pool: SendBuffers));
    }

    /// <summary>Queues a message of bytes if there is room now, without waiting. The bytes are copied, so the caller may reuse <paramref name="data"/> at once.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="messageType">Binary (the default) or Text (then <paramref name="data"/> must be UTF-8).</param>
    /// <returns>True if the message was accepted; false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not Text or Binary.</exception>
    public bool TryEnqueue(ReadOnlyMemory<byte> data, WebSocketMessageType messageType = WebSocketMessageType.Binary)
    {
        ValidateMessageType(messageType);
        if (_disposed)
        {
            return false;
        }

        if (RefusedWhileDisconnected(messageType, data.Length) is not null)
        {
            return false;
        }

        byte[] buffer = SendBuffers.Rent(Math.Max(data.Length, 1));
        data.Span.CopyTo(buffer);
        return TryEnqueueCore(new OutgoingMessage(buffer.AsMemory(0, data.Length), messageType, buffer, completion: null, pool: SendBuffers));
    }

    /// <summary>Removes every queued message: each is reported on <see cref="Dropped"/> and its <c>SendAsync</c> faults with
    /// <see cref="MessageDroppedException"/>. A message being written at that moment is not removed.</summary>
    /// <returns>How many messages were removed.</returns>
    public int ClearPendingSends() => _context.DropQueued(DropReason.Cleared);

    internal static void ValidateMessageType(WebSocketMessageType messageType)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentOutOfRangeException(nameof(messageType), messageType, SR.Format(SR.MessageTypeInvalid, messageType));
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // the state machine of every waiting send is reused, not allocated
    private async ValueTask SendCoreAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _sendQueue.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            message.ReturnBuffer();
            throw new ObjectDisposedException(GetType().FullName);
        }
        catch
        {
            message.ReturnBuffer();
            throw;
        }

        await message.Completion!.Task.ConfigureAwait(false);
    }

    private bool TryEnqueueCore(in OutgoingMessage message)
    {
        if (_sendQueue.TryEnqueue(message))
        {
            return true;
        }

        message.ReturnBuffer();
        return false;
    }

    private void OnOutgoingDropped(OutgoingMessage message, DropReason reason) =>
        _dropped.Publish(new DroppedMessage(MessageDirection.Outgoing, message.MessageType, message.Data.Length, reason));

    private void OnIncomingDropped(WebSocketMessage message, DropReason reason) =>
        _dropped.Publish(new DroppedMessage(MessageDirection.Incoming, message.MessageType, message.ByteLength, reason));

    /// <summary>With <see cref="WhileDisconnectedMode.Fail"/> and no open session: reports the refusal and returns the exception for <c>SendAsync</c>.</summary>
    /// <remarks>The length reported for text is its length in characters when refused before encoding.</remarks>
    private MessageDroppedException? RefusedWhileDisconnected(WebSocketMessageType messageType, int length)
    {
        if (_options.SendQueue.WhileDisconnected != WhileDisconnectedMode.Fail || IsConnected)
        {
            return null;
        }

        _dropped.Publish(new DroppedMessage(MessageDirection.Outgoing, messageType, length, DropReason.NotConnected));
        return new MessageDroppedException(DropReason.NotConnected);
    }

    private static (byte[] Buffer, int Length) Encode(string text)
    {
        byte[] buffer = SendBuffers.Rent(Math.Max(Encoding.UTF8.GetMaxByteCount(text.Length), 1));
        return (buffer, Encoding.UTF8.GetBytes(text, buffer));
    }
}
