using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Sending;

/// <summary>
/// Where the app's sends enter: the send policies that apply before and around the queue (while-disconnected, flush on
/// stop, clearing, dispose) with their logging, in one place. Full mode and time-to-live are the queue's own.
/// </summary>
/// <remarks>Thread-safe. Every drop is published on the client's <c>Dropped</c> stream through the event pump, so no
/// observer runs under the queue's lock.</remarks>
internal sealed class MessageSender
{
    private readonly SendQueueOptions _options;
    private readonly Func<bool> _isConnected;
    private readonly EventStream<DroppedMessage> _dropped;
    private readonly ILogger _logger;
    private readonly string _name;

    public MessageSender(SendQueueOptions options, TimeProvider timeProvider, Func<bool> isConnected, EventStream<DroppedMessage> dropped, ILogger logger, string name)
    {
        _options = options;
        _isConnected = isConnected;
        _dropped = dropped;
        _logger = logger;
        _name = name;
        Queue = new SendQueue(options, timeProvider, OnDropped);
    }

    public SendQueue Queue { get; }

    /// <summary>With <see cref="WhileDisconnectedMode.Fail"/> and no open session: reports the refusal and returns the
    /// exception for <c>SendAsync</c>. Checked before anything is encoded, so the length of refused text is in characters.</summary>
    public MessageDroppedException? Refuse(WebSocketMessageType messageType, int length)
    {
        if (_options.WhileDisconnected != WhileDisconnectedMode.Fail || _isConnected())
        {
            return null;
        }

        _dropped.Publish(new DroppedMessage(MessageDirection.Outgoing, messageType, length, DropReason.NotConnected));
        return new MessageDroppedException(DropReason.NotConnected);
    }

    /// <summary>Queues <paramref name="message"/> and completes when it is written (or faults when it is dropped).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // the state machine of every waiting send is reused, not allocated
    public async ValueTask SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await Queue.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            message.ReturnBuffer();
            throw new ObjectDisposedException(nameof(ReconnectingWebSocket));
        }
        catch
        {
            message.ReturnBuffer();
            throw;
        }

        await message.Completion!.Task.ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="message"/> if there is room now; false (its buffer given back) if not.</summary>
    public bool TryEnqueue(in OutgoingMessage message)
    {
        if (Queue.TryEnqueue(message))
        {
            return true;
        }

        message.ReturnBuffer();
        return false;
    }

    /// <summary>Drops what is queued with <paramref name="reason"/>, logs how many, and returns how many.</summary>
    public int Clear(DropReason reason) => Logged(Queue.Clear(reason), reason);

    /// <summary>A session was lost: with <see cref="WhileDisconnectedMode.Fail"/>, what waits for the next one is dropped.</summary>
    public void OnSessionLost()
    {
        if (_options.WhileDisconnected == WhileDisconnectedMode.Fail)
        {
            Clear(DropReason.Disconnected);
        }
    }

    /// <summary>A stop completed: without <see cref="SendQueueOptions.FlushOnStop"/>, what is queued is dropped.</summary>
    public void OnStopped()
    {
        if (!_options.FlushOnStop)
        {
            Clear(DropReason.Stopped);
        }
    }

    /// <summary>Refuses every later message and drops what is queued (dispose).</summary>
    public void Close() => Logged(Queue.Close(DropReason.Disposed), DropReason.Disposed);

    private int Logged(int dropped, DropReason reason)
    {
        if (dropped > 0)
        {
            Log.SendsDropped(_logger, _name, dropped, Describe.Drop(reason));
        }

        return dropped;
    }

    private void OnDropped(OutgoingMessage message, DropReason reason) =>
        _dropped.Publish(new DroppedMessage(MessageDirection.Outgoing, message.MessageType, message.Data.Length, reason));
}
