using System.Threading.Channels;

namespace Resilient.WebSockets.Sending;

/// <summary>
/// The one bounded, ordered queue of outgoing messages. It outlives sessions: messages accepted while disconnected
/// wait here, and a message whose write failed goes back to the front (the retry list) so that the next session
/// writes it first, before anything queued after it.
/// </summary>
/// <remarks>
/// Many threads enqueue; one send loop at a time takes. <see cref="Clear"/> and <see cref="Close"/> may run on any
/// thread. Every message leaves exactly once: written (<see cref="MarkWritten"/>), withdrawn by its caller's
/// cancellation, or dropped with a reason reported through the callback.
/// </remarks>
internal sealed class SendQueue
{
    private readonly Channel<OutgoingMessage> _channel;
    private readonly Action<OutgoingMessage, DropReason> _onDropped;
    private readonly Action _onWithdrawn;
    private readonly object _retryGate = new();
    private readonly Queue<OutgoingMessage> _retry = new();
    private int _retryCount;
    private int _pending;
    private const int Open = -1;
    private int _closedReason = Open;

    public SendQueue(int capacity, Action<OutgoingMessage, DropReason> onDropped)
    {
        _channel = Channel.CreateBounded<OutgoingMessage>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _onDropped = onDropped;
        _onWithdrawn = () => Interlocked.Decrement(ref _pending);
    }

    /// <summary>Messages accepted and not yet written, dropped or withdrawn.</summary>
    public int Count => Volatile.Read(ref _pending);

    /// <summary>Accepts the message if there is room now.</summary>
    public bool TryEnqueue(in OutgoingMessage message)
    {
        Interlocked.Increment(ref _pending);
        if (_channel.Writer.TryWrite(message))
        {
            return true;
        }

        Interlocked.Decrement(ref _pending);
        return false;
    }

    /// <summary>Accepts the message, waiting for room when the queue is full.</summary>
    /// <exception cref="ChannelClosedException">The queue was closed (the client was disposed).</exception>
    public async ValueTask EnqueueAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _pending);
        try
        {
            await _channel.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _pending);
            throw;
        }

        message.Completion?.EnableWithdrawal(_onWithdrawn, cancellationToken);
    }

    /// <summary>Takes the next message to write: the retry list first, then the queue. Skips withdrawn messages.</summary>
    public bool TryTake(out OutgoingMessage message)
    {
        while (TryTakeRaw(out message))
        {
            if (message.Completion is null || message.Completion.TryBeginWrite())
            {
                return true;
            }

            // The caller cancelled while it waited: it was counted out then, and only its buffer is left to free.
            message.ReturnBuffer();
        }

        return false;
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _retryCount) > 0 ? new ValueTask<bool>(true) : _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>The message was written: complete its <c>SendAsync</c> and free its buffer.</summary>
    public void MarkWritten(in OutgoingMessage message)
    {
        Interlocked.Decrement(ref _pending);
        message.Completion?.SetWritten();
        message.ReturnBuffer();
    }

    /// <summary>The write of a taken message failed: it goes back to the front, to be written first on the next session.</summary>
    public void Requeue(in OutgoingMessage message)
    {
        message.Completion?.ReturnToQueue();
        lock (_retryGate)
        {
            if (_closedReason == Open)
            {
                _retry.Enqueue(message);
                _retryCount = _retry.Count;
                return;
            }
        }

        Drop(message, (DropReason)_closedReason);
    }

    /// <summary>Drops every queued message with <paramref name="reason"/>; returns how many were dropped.</summary>
    public int Clear(DropReason reason)
    {
        int dropped = 0;
        while (TryTakeRaw(out var message))
        {
            if (Drop(message, reason))
            {
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Refuses new messages from now on and drops what is queued; returns how many were dropped.</summary>
    public int Close(DropReason reason)
    {
        lock (_retryGate)
        {
            if (_closedReason == Open)
            {
                _closedReason = (int)reason;
            }
        }

        _channel.Writer.TryComplete();
        return Clear(reason);
    }

    private bool TryTakeRaw(out OutgoingMessage message)
    {
        if (Volatile.Read(ref _retryCount) > 0)
        {
            lock (_retryGate)
            {
                if (_retry.TryDequeue(out message))
                {
                    _retryCount = _retry.Count;
                    return true;
                }
            }
        }

        return _channel.Reader.TryRead(out message);
    }

    private bool Drop(in OutgoingMessage message, DropReason reason)
    {
        bool reported = message.Completion is null || message.Completion.TryFail(new MessageDroppedException(reason));
        if (reported)
        {
            Interlocked.Decrement(ref _pending);
            _onDropped(message, reason);
        }

        message.ReturnBuffer();
        return reported;
    }
}
