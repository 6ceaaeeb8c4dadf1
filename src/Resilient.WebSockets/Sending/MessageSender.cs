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
    private readonly ClientMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly string _name;
    private IDirectLane? _lane;

    public MessageSender(SendQueueOptions options, TimeProvider timeProvider, Func<bool> isConnected, EventStream<DroppedMessage> dropped, ClientMetrics? metrics, ILogger logger, string name)
    {
        _metrics = metrics;
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

    /// <summary>A session's queue flows: its lane is open (see <see cref="IDirectLane"/>).</summary>
    public void OpenLane(IDirectLane lane) => Volatile.Write(ref _lane, lane);

    /// <summary>The session is ending: its lane closes (a direct write under way finishes before its close frame, which
    /// waits for the send lock).</summary>
    public void CloseLane(IDirectLane lane) => Interlocked.CompareExchange(ref _lane, null, lane);

    /// <summary>
    /// Sends <paramref name="message"/> (which has no completion yet) and completes when it is written, or faults when it
    /// is dropped. When a session is live, nothing accepted waits to be written and nothing is writing, the message is
    /// written at once on the caller's thread: the order is the same as through the queue (anything sent after it queues
    /// behind the send lock), and so is the meaning of completion; a write that completes at once allocates nothing.
    /// Otherwise it is queued with a completion.
    /// </summary>
    public ValueTask SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _lane) is { } lane && Queue.Count == 0 && lane.TryEnter())
        {
            // Checked again under the send lock: the send loop cannot take or write anything while it is held.
            if (Queue.Count == 0)
            {
                Queue.AcceptDirect();
                return WriteDirectAsync(lane, message);
            }

            lane.Exit();
        }

        return EnqueueAsync(message.WithCompletion(new PendingSend()), cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteDirectAsync(IDirectLane lane, OutgoingMessage message)
    {
        try
        {
            await lane.WriteAsync(message.Data, message.MessageType).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed write ends the session; the message waits, first, for the next one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Back in the queue before the lock is released: the session, which seals the lock when it ends, counts this
            // message among those the next session writes first (or drops, with WhileDisconnected = Fail).
            var completion = new PendingSend();
            completion.TryBeginWrite();
            Queue.Requeue(message.WithCompletion(completion));
            lane.OnFailed(ex);
            lane.Exit();
            Log.SendFailed(_logger, _name, Describe.Cause(ex)); // a logger is user code: never under the send lock
            await completion.Task.ConfigureAwait(false);
            return;
        }

        lane.Exit();
        _metrics?.Sent(message.MessageType, message.Data.Length);
        Queue.MarkWritten(message);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // the state machine of every waiting send is reused, not allocated
    private async ValueTask EnqueueAsync(OutgoingMessage message, CancellationToken cancellationToken)
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
