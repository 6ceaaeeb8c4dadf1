using System.Collections.Concurrent;
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
/// cancellation, or dropped with a reason reported through the callback: evicted by a full queue
/// (<see cref="SendQueueFullMode.DropOldest"/>, <see cref="SendQueueFullMode.DropNewest"/>), expired
/// (<see cref="SendQueueOptions.TimeToLive"/>), cleared, or still queued at dispose. A message the queue refuses is
/// reported too, but its buffer stays with the caller.
/// </remarks>
internal sealed class SendQueue
{
    private const int Open = -1;

    private readonly Channel<OutgoingMessage> _channel;
    private readonly Action<OutgoingMessage, DropReason> _onDropped;
    private readonly Action _onWithdrawn;
    private readonly SendQueueFullMode _fullMode;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan? _timeToLive;
    private readonly ITimer? _sweeper;
    private readonly object _takeGate = new();
    private readonly Queue<OutgoingMessage> _retry = new();
    private readonly ConcurrentQueue<OutgoingMessage> _evicted = new();
    private int _retryCount;
    private int _pending;
    private int _closedReason = Open;

    public SendQueue(SendQueueOptions options, TimeProvider timeProvider, Action<OutgoingMessage, DropReason> onDropped)
    {
        _fullMode = options.FullMode;
        _timeProvider = timeProvider;
        _timeToLive = options.TimeToLive;
        _onDropped = onDropped;
        _onWithdrawn = () => Interlocked.Decrement(ref _pending);
        _channel = Channel.CreateBounded<OutgoingMessage>(
            new BoundedChannelOptions(options.Capacity)
            {
                FullMode = _fullMode switch
                {
                    SendQueueFullMode.DropOldest => BoundedChannelFullMode.DropOldest,
                    SendQueueFullMode.DropNewest => BoundedChannelFullMode.DropNewest,
                    _ => BoundedChannelFullMode.Wait,
                },
                SingleReader = false,
                SingleWriter = false,
                AllowSynchronousContinuations = false,
            },
            // Called under the channel's lock: only note the message here; it is reported after the write returns.
            _evicted.Enqueue);

        if (_timeToLive is { } ttl)
        {
            var period = TimeSpan.FromTicks(Math.Max(ttl.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
            _sweeper = timeProvider.CreateTimer(static state => ((SendQueue)state!).SweepExpired(), this, period, period);
        }
    }

    /// <summary>Messages accepted and not yet written, dropped or withdrawn.</summary>
    /// <remarks>A writer that waits for room is counted once the queue accepts its message; for a moment the send loop
    /// may count that message out before the writer counts it in, hence the floor at zero.</remarks>
    public int Count => Math.Max(Volatile.Read(ref _pending), 0);

    /// <summary>Accepts the message if there is room now (or, in a drop mode, after evicting another).
    /// A refusal is reported as <see cref="DropReason.QueueFull"/>; after <see cref="Close"/> nothing is accepted or reported.</summary>
    public bool TryEnqueue(in OutgoingMessage message)
    {
        var stamped = Stamp(message);
        Interlocked.Increment(ref _pending);
        if (_channel.Writer.TryWrite(stamped))
        {
            ReportEvicted();
            return true;
        }

        Interlocked.Decrement(ref _pending);
        if (Volatile.Read(ref _closedReason) == Open)
        {
            _onDropped(message, DropReason.QueueFull);
        }

        return false;
    }

    /// <summary>Accepts the message: waits for room when the queue is full in <see cref="SendQueueFullMode.Wait"/>, evicts
    /// in the drop modes, and refuses in <see cref="SendQueueFullMode.Fail"/>.</summary>
    /// <exception cref="MessageDroppedException">Refused by a full queue in <see cref="SendQueueFullMode.Fail"/>.</exception>
    /// <exception cref="ChannelClosedException">The queue was closed (the client was disposed).</exception>
    public async ValueTask EnqueueAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        if (_fullMode == SendQueueFullMode.Fail)
        {
            if (!TryEnqueue(message))
            {
                throw Volatile.Read(ref _closedReason) == Open ? new MessageDroppedException(DropReason.QueueFull) : new ChannelClosedException();
            }
        }
        else
        {
            var stamped = Stamp(message);
            if (!_channel.Writer.TryWrite(stamped))
            {
                await _channel.Writer.WriteAsync(stamped, cancellationToken).ConfigureAwait(false);
            }

            Interlocked.Increment(ref _pending);
            ReportEvicted();
        }

        message.Completion?.EnableWithdrawal(_onWithdrawn, cancellationToken);
    }

    /// <summary>Takes the next message to write: the retry list first, then the queue. Skips withdrawn messages and drops expired ones.</summary>
    public bool TryTake(out OutgoingMessage message)
    {
        while (TryTakeRaw(out message))
        {
            if (IsExpired(message))
            {
                Drop(message, DropReason.Expired);
                continue;
            }

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

    /// <summary>A message that is written on the sender's thread, past the queue (see <see cref="IDirectLane"/>), counts
    /// as accepted until <see cref="MarkWritten"/> or <see cref="Requeue"/> settles it, like any other.</summary>
    public void AcceptDirect() => Interlocked.Increment(ref _pending);

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
        lock (_takeGate)
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
        lock (_takeGate)
        {
            if (_closedReason == Open)
            {
                _closedReason = (int)reason;
            }
        }

        _sweeper?.Dispose();
        _channel.Writer.TryComplete();
        return Clear(reason);
    }

    /// <summary>Drops expired messages from the head of the queue, so a message that waits through an outage is reported when its time is up, not when the link returns.</summary>
    internal void SweepExpired()
    {
        lock (_takeGate)
        {
            while (_retry.TryPeek(out var head) && IsExpired(head))
            {
                Drop(_retry.Dequeue(), DropReason.Expired);
                _retryCount = _retry.Count;
            }

            while (_channel.Reader.TryPeek(out var head) && IsExpired(head) && _channel.Reader.TryRead(out head))
            {
                Drop(head, DropReason.Expired);
            }
        }
    }

    private OutgoingMessage Stamp(in OutgoingMessage message) =>
        _timeToLive is null ? message : message.WithTimestamp(_timeProvider.GetTimestamp());

    private bool IsExpired(in OutgoingMessage message) =>
        _timeToLive is { } ttl && _timeProvider.GetElapsedTime(message.Timestamp) >= ttl;

    private bool TryTakeRaw(out OutgoingMessage message)
    {
        // With a time-to-live every take holds the lock, so that the sweeper's peek-then-read sees the same head.
        if (_timeToLive is not null || Volatile.Read(ref _retryCount) > 0)
        {
            lock (_takeGate)
            {
                if (_retry.TryDequeue(out message))
                {
                    _retryCount = _retry.Count;
                    return true;
                }

                return _channel.Reader.TryRead(out message);
            }
        }

        return _channel.Reader.TryRead(out message);
    }

    private void ReportEvicted()
    {
        while (_evicted.TryDequeue(out var message))
        {
            Drop(message, DropReason.QueueFull);
        }
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
