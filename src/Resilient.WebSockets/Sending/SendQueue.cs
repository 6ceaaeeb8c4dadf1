using System.Threading.Channels;
using Resilient.WebSockets.Internal;

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
/// <para>A withdrawn message gives its room back at once (a writer waiting for room gets it), and stays behind as a
/// tombstone that the next take skips and frees; tombstones are swept out when they outnumber the live messages, so
/// cancelling sends during a long outage never fills the queue. Everything is decided under one lock; the callback
/// it calls only posts to the client's event pump, so no user code runs under it.</para>
/// </remarks>
internal sealed class SendQueue
{
    private const int Open = -1;
    private const int SweepTombstonesFrom = 64;

    private readonly object _gate = new();
    private readonly Deque<OutgoingMessage> _retry = new();
    private readonly Deque<OutgoingMessage> _queue = new();
    private readonly Queue<RoomWaiter<OutgoingMessage>> _writers = new();
    private readonly Action<OutgoingMessage, DropReason> _onDropped;
    private readonly Action<PendingSend> _onWithdrawn;
    private readonly int _capacity;
    private readonly SendQueueFullMode _fullMode;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan? _timeToLive;
    private readonly ITimer? _sweeper;
    private int _queued;   // live messages in _queue: what the capacity bounds
    private int _retried;  // live messages in _retry
    private int _tombstones;
    private int _pending;  // accepted, not yet written, dropped or withdrawn (queued, retried, being written)
    private int _closedReason = Open;
    private TaskCompletionSource<bool>? _reader;
    private CancellationTokenRegistration _readerCancellation;
    private bool _woken;

    public SendQueue(SendQueueOptions options, TimeProvider timeProvider, Action<OutgoingMessage, DropReason> onDropped)
    {
        _capacity = options.Capacity;
        _fullMode = options.FullMode;
        _timeProvider = timeProvider;
        _timeToLive = options.TimeToLive;
        _onDropped = onDropped;
        _onWithdrawn = OnWithdrawn;

        if (_timeToLive is { } ttl)
        {
            var period = TimeSpan.FromTicks(Math.Max(ttl.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
            _sweeper = timeProvider.CreateTimer(static state => ((SendQueue)state!).SweepExpired(), this, period, period);
        }
    }

    /// <summary>Messages accepted and not yet written, dropped or withdrawn.</summary>
    public int Count => Math.Max(Volatile.Read(ref _pending), 0);

    /// <summary>Accepts the message if there is room now (or, in a drop mode, after evicting another).
    /// A refusal is reported as <see cref="DropReason.QueueFull"/>; after <see cref="Close"/> nothing is accepted or reported.</summary>
    public bool TryEnqueue(in OutgoingMessage message)
    {
        var stamped = Stamp(message);
        lock (_gate)
        {
            if (_closedReason != Open)
            {
                return false;
            }

            if (_queued >= _capacity && !TryEvict())
            {
                _onDropped(message, DropReason.QueueFull);
                return false;
            }

            Accept(stamped);
            return true;
        }
    }

    /// <summary>Accepts the message: waits for room when the queue is full in <see cref="SendQueueFullMode.Wait"/>, evicts
    /// in the drop modes, and refuses in <see cref="SendQueueFullMode.Fail"/>.</summary>
    /// <exception cref="MessageDroppedException">Refused by a full queue in <see cref="SendQueueFullMode.Fail"/>.</exception>
    /// <exception cref="ChannelClosedException">The queue was closed (the client was disposed).</exception>
    public ValueTask EnqueueAsync(OutgoingMessage message, CancellationToken cancellationToken)
    {
        var stamped = Stamp(message);
        RoomWaiter<OutgoingMessage> waiter;
        lock (_gate)
        {
            if (_closedReason != Open)
            {
                return ValueTask.FromException(new ChannelClosedException());
            }

            if (_queued < _capacity || TryEvict())
            {
                Accept(stamped);
                message.Completion?.EnableWithdrawal(_onWithdrawn, cancellationToken);
                return ValueTask.CompletedTask;
            }

            if (_fullMode == SendQueueFullMode.Fail)
            {
                _onDropped(message, DropReason.QueueFull);
                return ValueTask.FromException(new MessageDroppedException(DropReason.QueueFull));
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }

            waiter = new RoomWaiter<OutgoingMessage>(stamped);
            _writers.Enqueue(waiter);
        }

        return WaitForRoomAsync(waiter, cancellationToken);
    }

    private async ValueTask WaitForRoomAsync(RoomWaiter<OutgoingMessage> waiter, CancellationToken cancellationToken)
    {
        await waiter.WaitAsync(GiveUp, cancellationToken).ConfigureAwait(false);
        waiter.Item.Completion?.EnableWithdrawal(_onWithdrawn, cancellationToken);
    }

    /// <summary>Takes the next message to write: the retry list first, then the queue. Skips withdrawn messages and drops expired ones.</summary>
    public bool TryTake(out OutgoingMessage message)
    {
        lock (_gate)
        {
            if (TryTakeFrom(_retry, ref _retried, out message))
            {
                return true;
            }

            if (TryTakeFrom(_queue, ref _queued, out message))
            {
                AdmitWriters();
                return true;
            }

            return false;
        }
    }

    /// <summary>Waits until there may be something to take (or <see cref="Wake"/> is called); false once the queue is closed and empty.</summary>
    /// <remarks>One waiter at a time: the session's send loop.</remarks>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> reader;
        lock (_gate)
        {
            if (_retry.Count > 0 || _queue.Count > 0 || _woken)
            {
                _woken = false;
                return new ValueTask<bool>(true);
            }

            if (_closedReason != Open)
            {
                return new ValueTask<bool>(false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<bool>(cancellationToken);
            }

            _reader = reader = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        var registration = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (queue, reader) = ((SendQueue, TaskCompletionSource<bool>))state!;
            queue.StopWaiting(reader, token);
        }, (this, reader));
        lock (_gate)
        {
            if (_reader == reader)
            {
                _readerCancellation = registration;
            }
            else
            {
                registration.Unregister();
            }
        }

        return new ValueTask<bool>(reader.Task);
    }

    /// <summary>Ends the reader's wait (or the next one) with true: something outside the queue has a message for it.</summary>
    public void Wake()
    {
        lock (_gate)
        {
            if (!ReleaseReader(true))
            {
                _woken = true;
            }
        }
    }

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
        lock (_gate)
        {
            if (message.Completion is { } completion)
            {
                completion.InRetry = true;
                completion.ReturnToQueue();
            }

            if (_closedReason == Open)
            {
                _retry.PushBack(message);
                _retried++;
                return;
            }

            Drop(message, (DropReason)_closedReason);
        }
    }

    /// <summary>Drops every queued message with <paramref name="reason"/>; returns how many were dropped.</summary>
    public int Clear(DropReason reason)
    {
        lock (_gate)
        {
            int dropped = DropAll(_retry, reason) + DropAll(_queue, reason);
            _retried = 0;
            _queued = 0;
            _tombstones = 0;
            AdmitWriters();
            return dropped;
        }
    }

    /// <summary>Refuses new messages from now on and drops what is queued; returns how many were dropped. Writers still
    /// waiting for room fail with <see cref="ChannelClosedException"/>, and the reader's wait ends with false.</summary>
    public int Close(DropReason reason)
    {
        _sweeper?.Dispose();
        lock (_gate)
        {
            if (_closedReason == Open)
            {
                _closedReason = (int)reason;
            }

            while (_writers.TryDequeue(out var waiter))
            {
                if (waiter.TrySettle())
                {
                    waiter.Admitted.TrySetException(new ChannelClosedException());
                }
            }

            ReleaseReader(false);
        }

        return Clear(reason);
    }

    /// <summary>Drops expired messages from the head of the queue, so a message that waits through an outage is reported when its time is up, not when the link returns.</summary>
    internal void SweepExpired()
    {
        lock (_gate)
        {
            DropExpiredHead(_retry, ref _retried);
            if (DropExpiredHead(_queue, ref _queued))
            {
                AdmitWriters();
            }
        }
    }

    private OutgoingMessage Stamp(in OutgoingMessage message) =>
        _timeToLive is null ? message : message.WithTimestamp(_timeProvider.GetTimestamp());

    private bool IsExpired(in OutgoingMessage message) =>
        _timeToLive is { } ttl && _timeProvider.GetElapsedTime(message.Timestamp) >= ttl;

    private static bool IsTombstone(in OutgoingMessage message) => message.Completion is { IsWithdrawn: true };

    // Under the gate.
    private void Accept(in OutgoingMessage message)
    {
        _queue.PushBack(message);
        _queued++;
        Interlocked.Increment(ref _pending);
        ReleaseReader(true);
    }

    /// <summary>Makes room in a drop mode by evicting a live message (reported as <see cref="DropReason.QueueFull"/>); false in the other modes.</summary>
    private bool TryEvict()
    {
        if (_fullMode is not (SendQueueFullMode.DropOldest or SendQueueFullMode.DropNewest))
        {
            return false;
        }

        while (_queue.Count > 0)
        {
            var victim = _fullMode == SendQueueFullMode.DropOldest ? _queue.PopFront() : _queue.PopBack();
            if (IsTombstone(victim))
            {
                Bury(victim);
                continue;
            }

            if (Drop(victim, DropReason.QueueFull))
            {
                _queued--;
                return true;
            }

            Forget(); // withdrawn a moment ago: its withdrawal gives the room back
        }

        return true; // only tombstones whose withdrawals are still on their way: each gives its room back
    }

    private bool TryTakeFrom(Deque<OutgoingMessage> deque, ref int live, out OutgoingMessage message)
    {
        while (deque.Count > 0)
        {
            message = deque.PopFront();
            if (IsTombstone(message))
            {
                Bury(message);
                continue;
            }

            if (IsExpired(message))
            {
                if (Drop(message, DropReason.Expired))
                {
                    live--;
                }
                else
                {
                    Forget();
                }

                continue;
            }

            if (message.Completion is null || message.Completion.TryBeginWrite())
            {
                live--;
                return true;
            }

            Bury(message); // the caller cancelled just now: its withdrawal does the counting
        }

        message = default;
        return false;
    }

    private bool DropExpiredHead(Deque<OutgoingMessage> deque, ref int live)
    {
        bool dropped = false;
        while (deque.Count > 0 && (IsTombstone(deque[0]) || IsExpired(deque[0])))
        {
            var head = deque.PopFront();
            if (IsTombstone(head))
            {
                Bury(head);
            }
            else if (Drop(head, DropReason.Expired))
            {
                live--;
                dropped = true;
            }
            else
            {
                Forget();
            }
        }

        return dropped;
    }

    private int DropAll(Deque<OutgoingMessage> deque, DropReason reason)
    {
        int dropped = 0;
        while (deque.Count > 0)
        {
            var message = deque.PopFront();
            if (IsTombstone(message))
            {
                message.ReturnBuffer();
            }
            else if (Drop(message, reason))
            {
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>A withdrawn message leaves its place: its room was given back by the withdrawal; only its buffer is left to free.</summary>
    private void Bury(in OutgoingMessage message)
    {
        Forget();
        message.ReturnBuffer();
    }

    private void Forget() => _tombstones = Math.Max(_tombstones - 1, 0);

    /// <summary>A caller cancelled a queued send (on the caller's thread): its room is free at once.</summary>
    private void OnWithdrawn(PendingSend withdrawn)
    {
        lock (_gate)
        {
            Interlocked.Decrement(ref _pending);
            if (withdrawn.InRetry)
            {
                _retried--;
                return;
            }

            _queued--;
            if (++_tombstones >= SweepTombstonesFrom && _tombstones > _queued)
            {
                _queue.RemoveWhere(static message =>
                {
                    if (!IsTombstone(message))
                    {
                        return false;
                    }

                    message.ReturnBuffer();
                    return true;
                });
                _tombstones = 0;
            }

            AdmitWriters();
        }
    }

    /// <summary>Lets writers waiting for room in, in the order they came, while there is room.</summary>
    private void AdmitWriters()
    {
        while (_queued < _capacity && _writers.TryDequeue(out var waiter))
        {
            if (waiter.TrySettle())
            {
                Accept(waiter.Item);
                waiter.Admit();
            }
        }
    }

    private void GiveUp(RoomWaiter<OutgoingMessage> waiter, CancellationToken token)
    {
        lock (_gate)
        {
            if (!waiter.TrySettle())
            {
                return; // admitted a moment ago: the message is queued, and withdrawable once the send resumes
            }
        }

        // It stays in the writers' queue, settled; the next admission skips it.
        waiter.Admitted.TrySetCanceled(token);
    }

    private void StopWaiting(TaskCompletionSource<bool> reader, CancellationToken token)
    {
        lock (_gate)
        {
            if (_reader != reader)
            {
                return;
            }

            _reader = null;
        }

        reader.TrySetCanceled(token);
    }

    // Under the gate.
    private bool ReleaseReader(bool result)
    {
        if (_reader is not { } reader)
        {
            return false;
        }

        _reader = null;
        _readerCancellation.Unregister();
        _readerCancellation = default;
        reader.TrySetResult(result);
        return true;
    }

    /// <summary>Reports and fails the message unless its caller withdrew it a moment ago (false); frees its buffer either way.</summary>
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
