using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Internal;

namespace Resilient.WebSockets.Delivery;

/// <summary>
/// The client's accepted, unacknowledged reliable messages (see <see cref="DeliveryOptions"/>). It outlives sessions.
/// The session's send loop takes due messages from it ahead of the send queue; the receive loop hands it acks; one
/// timer runs the ack timeouts (while connected) and the delivery timeouts (always).
/// </summary>
/// <remarks>
/// A message's life: reserved (room taken, being stored) → due → writing → in flight (written, its ack timer running)
/// → done (acknowledged, rejected or given up). A failed write, an ack timeout and every new session make it due
/// again. Every decision is taken under one lock; what runs user code (the store, the send's continuation through
/// the thread pool, the event pump) is started after the lock is released.
/// </remarks>
internal sealed class Outbox : IDisposable
{
    private readonly object _gate = new();
    private readonly DeliveryOptions _options;
    private readonly TimeProvider _time;
    private readonly EventStream<AcknowledgedMessage> _acknowledged;
    private readonly EventStream<DroppedMessage> _dropped;
    private readonly Action _wakeSender;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly int _maxInFlight;
    private readonly Dictionary<string, ReliableMessage> _byId = new(StringComparer.Ordinal);
    private readonly LinkedList<ReliableMessage> _accepted = new();  // acceptance order: the delivery deadlines, the resend order
    private readonly SortedSet<ReliableMessage> _due = new(ReliableMessage.BySequence);
    private readonly Deque<ReliableMessage> _inFlight = new();       // write order: the ack deadlines (stale entries skipped)
    private readonly Queue<RoomWaiter<ReliableMessage>> _waiters = new();
    private readonly ITimer _timer;
    private int _held;        // room taken: reserved or accepted, not yet done (what Capacity bounds)
    private long _bytes;      // the same, in payload bytes (what MaxBytes bounds)
    private long _nextSequence;
    private int _writing;     // writing or in flight on this session: what MaxInFlight bounds
    private int _generation;  // the session: a write of an earlier one does not count on this one
    private bool _connected;
    private bool _closed;
    private bool _loaded;
    private long _timerDue = long.MaxValue;

    public Outbox(DeliveryOptions options, TimeProvider time, EventStream<AcknowledgedMessage> acknowledged, EventStream<DroppedMessage> dropped, Action wakeSender, ILogger logger, string name)
    {
        _options = options;
        _time = time;
        _acknowledged = acknowledged;
        _dropped = dropped;
        _wakeSender = wakeSender;
        _logger = logger;
        _name = name;
        _maxInFlight = options.MaxInFlight ?? options.Capacity;
        _timer = time.CreateTimer(static state => ((Outbox)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Payload bytes of the messages held (what <see cref="DeliveryOptions.MaxBytes"/> bounds).</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>How many messages, and how many bytes, it holds: both read under one lock, so they agree.</summary>
    public (int Messages, long Bytes) Snapshot()
    {
        lock (_gate)
        {
            return (_held, _bytes);
        }
    }

    /// <summary>Accepted (or being stored) and not yet acknowledged, rejected or given up; sends waiting for room are not counted.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _held;
            }
        }
    }

    public IOutboxStore? Store => _options.Store;

    /// <summary>
    /// Takes room for the message (waiting for it, or refusing, by <see cref="DeliveryOptions.FullMode"/>), stores it
    /// when a store is set, and makes it due. Returns the message, whose <see cref="ReliableMessage.Outcome"/> completes on
    /// its ack and faults when it is rejected, given up or dropped.
    /// </summary>
    /// <exception cref="ArgumentException">The id is already in the outbox, or the payload is larger than <see cref="DeliveryOptions.MaxBytes"/>.</exception>
    /// <exception cref="MessageDroppedException">The outbox is full in <see cref="OutboxFullMode.Fail"/>.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    public async ValueTask<ReliableMessage> AcceptAsync(string messageId, WebSocketMessageType messageType, byte[] data, bool trackOutcome, CancellationToken cancellationToken)
    {
        if (data.Length > _options.MaxBytes)
        {
            throw new ArgumentException(SR.Format(SR.ReliableTooLarge, data.Length, _options.MaxBytes), nameof(data));
        }

        var message = new ReliableMessage(messageId, messageType, data, trackOutcome);
        RoomWaiter<ReliableMessage>? waiter = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(ReconnectingWebSocket));
            if (_byId.ContainsKey(messageId))
            {
                throw new ArgumentException(SR.Format(SR.ReliableDuplicateId, messageId), nameof(messageId));
            }

            if (HasRoom(data.Length))
            {
                Reserve(message);
            }
            else if (_options.FullMode == OutboxFullMode.Fail)
            {
                _dropped.Publish(new DroppedMessage(MessageDirection.Outgoing, messageType, data.Length, DropReason.QueueFull) { MessageId = messageId });
                throw new MessageDroppedException(DropReason.QueueFull) { MessageId = messageId };
            }
            else
            {
                cancellationToken.ThrowIfCancellationRequested();
                _byId.Add(messageId, message); // the id is taken while it waits
                waiter = new RoomWaiter<ReliableMessage>(message);
                _waiters.Enqueue(waiter);
            }
        }

        if (waiter is not null)
        {
            await waiter.WaitAsync(GiveUpWaiting, cancellationToken).ConfigureAwait(false);
        }

        if (_options.Store is { } store)
        {
            try
            {
                await store.AppendAsync(new OutboxEntry(messageId, messageType, data, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                lock (_gate)
                {
                    Release(message);
                }

                throw;
            }
        }

        lock (_gate)
        {
            if (_closed)
            {
                Release(message);
                throw new ObjectDisposedException(typeof(ReconnectingWebSocket).FullName);
            }

            message.Sequence = _nextSequence++;
            message.AcceptedAt = _time.GetTimestamp();
            message.Node = _accepted.AddLast(message);
            MakeDue(message);
            Reschedule();
        }

        _wakeSender();
        return message;
    }

    /// <summary>Loads the store into the outbox on the client's first start (later starts have nothing new to load).</summary>
    public async ValueTask LoadOnceAsync(CancellationToken cancellationToken)
    {
        if (_options.Store is not { } store || _loaded)
        {
            return;
        }

        var entries = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        _loaded = true;
        Restore(entries);
    }

    /// <summary>Adds what a store kept from before this process (or this client) started, ahead of everything accepted
    /// since, in their order. Ids already in the outbox are skipped.</summary>
    /// <returns>How many were added.</returns>
    public int Restore(IReadOnlyList<OutboxEntry> entries)
    {
        int added = 0;
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            var utcNow = _time.GetUtcNow();
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var entry = entries[i];
                if (_closed || _byId.ContainsKey(entry.MessageId))
                {
                    continue;
                }

                // Older than anything accepted by this process: first in line, in the store's order, and their
                // delivery timeouts count from when they were first accepted.
                var message = new ReliableMessage(entry.MessageId, entry.MessageType, entry.Data.ToArray(), trackOutcome: false);
                Reserve(message);
                var age = utcNow - entry.AcceptedAt;
                message.Sequence = i - entries.Count;
                message.AcceptedAt = now - ToTimestamp(age > TimeSpan.Zero ? age : TimeSpan.Zero);
                message.Node = _accepted.AddFirst(message);
                MakeDue(message);
                added++;
            }

            Reschedule();
        }

        if (added > 0)
        {
            _wakeSender();
        }

        return added;
    }

    /// <summary>The send loop's take: the next due message while fewer than <see cref="DeliveryOptions.MaxInFlight"/> are
    /// unacknowledged on this session. A message that has had all its attempts is given up instead.</summary>
    public bool TryTake(out ReliableMessage message)
    {
        List<ReliableMessage>? givenUp = null;
        try
        {
            lock (_gate)
            {
                while (_connected && _due.Count > 0 && _writing < _maxInFlight)
                {
                    message = _due.Min!;
                    _due.Remove(message);
                    if (message.Attempts >= _options.MaxAttempts)
                    {
                        GiveUp(message, SR.Format(SR.ReliableAttemptsSpent, message.Attempts), ref givenUp);
                        continue;
                    }

                    message.Attempts++;
                    message.State = ReliableState.Writing;
                    message.Generation = _generation;
                    _writing++;
                    return true;
                }

                message = null!;
                return false;
            }
        }
        finally
        {
            Finish(givenUp);
        }
    }

    /// <summary>The write that carried <paramref name="message"/> succeeded: its ack timer starts.</summary>
    public void OnWritten(ReliableMessage message)
    {
        lock (_gate)
        {
            if (message.State != ReliableState.Writing || message.Generation != _generation)
            {
                return; // acknowledged meanwhile, or the session is already over
            }

            message.State = ReliableState.InFlight;
            message.WrittenAt = _time.GetTimestamp();
            _inFlight.PushBack(message);
            Reschedule();
        }
    }

    /// <summary>The write that carried <paramref name="message"/> failed (the session is ending): it is due again.</summary>
    public void OnWriteFailed(ReliableMessage message)
    {
        lock (_gate)
        {
            if (message.State != ReliableState.Writing)
            {
                return;
            }

            MakeDue(message);
        }
    }

    /// <summary>A new session is open and <c>OnConnected</c> has run: every unacknowledged message is due, in acceptance order.</summary>
    public void OnSessionStarted()
    {
        lock (_gate)
        {
            _generation++;
            _connected = true;
            _inFlight.RemoveWhere(static _ => true);
            _writing = 0;
            foreach (var message in _accepted)
            {
                if (message.State is ReliableState.InFlight or ReliableState.Writing)
                {
                    MakeDue(message);
                }
            }

            Reschedule();
        }

        _wakeSender();
    }

    /// <summary>The session is over: ack timeouts stop until the next one (delivery timeouts go on).</summary>
    public void OnSessionEnded()
    {
        lock (_gate)
        {
            _connected = false;
            Reschedule();
        }
    }

    /// <summary>Settles the message <paramref name="ack"/> names; false when no such message is in the outbox (a late or
    /// repeated ack).</summary>
    public bool Acknowledge(in MessageAck ack)
    {
        ReliableMessage? message;
        TimeSpan latency;
        lock (_gate)
        {
            if (!_byId.TryGetValue(ack.MessageId, out message) || message.State is ReliableState.Reserved or ReliableState.Done)
            {
                return false;
            }

            latency = _time.GetElapsedTime(message.AcceptedAt);
            Release(message);
        }

        Forget(message.Id); // before anyone hears of the outcome: an app that then disposes finds the removal under way
        if (ack.IsRejected)
        {
            Fail(message, DropReason.Rejected, ack.Detail);
        }
        else
        {
            message.Outcome?.TrySetResult();
            _acknowledged.Publish(new AcknowledgedMessage(message.Id, message.Attempts, latency));
        }

        _wakeSender(); // room in flight
        return true;
    }

    /// <summary>The client is disposed. Without a store every message is dropped (<see cref="DropReason.Disposed"/>);
    /// with one they stay stored for the next start, and their sends fault with <see cref="ObjectDisposedException"/>.</summary>
    public void Close()
    {
        List<ReliableMessage> left;
        List<RoomWaiter<ReliableMessage>> waiting;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _connected = false;
            waiting = [.. _waiters];
            _waiters.Clear();
            left = [.. _accepted];
            foreach (var message in left)
            {
                Release(message);
            }
        }

        _timer.Dispose();
        foreach (var waiter in waiting)
        {
            if (waiter.TrySettle())
            {
                waiter.Admitted.TrySetException(new ObjectDisposedException(typeof(ReconnectingWebSocket).FullName));
            }
        }

        foreach (var message in left)
        {
            if (_options.Store is null)
            {
                Fail(message, DropReason.Disposed, detail: null, log: false);
            }
            else
            {
                message.Outcome?.TrySetException(new ObjectDisposedException(typeof(ReconnectingWebSocket).FullName, SR.ReliableKeptInStore));
            }
        }
    }

    public void Dispose() => Close();

    // Under the gate. Writers waiting go first: a new message does not overtake them.
    private bool HasRoom(int length)
    {
        while (_waiters.TryPeek(out var waiter) && waiter.IsSettled)
        {
            _waiters.Dequeue();
        }

        return _waiters.Count == 0 && Fits(length);
    }

    private bool Fits(int length) => _held < _options.Capacity && _bytes + length <= _options.MaxBytes;

    // Under the gate.
    private void Reserve(ReliableMessage message)
    {
        _byId[message.Id] = message;
        _held++;
        _bytes += message.Data.Length;
        message.State = ReliableState.Reserved;
    }

    // Under the gate.
    private void MakeDue(ReliableMessage message)
    {
        if (message.State is ReliableState.Writing or ReliableState.InFlight && message.Generation == _generation && _writing > 0)
        {
            _writing--;
        }

        message.State = ReliableState.Due;
        _due.Add(message);
    }

    /// <summary>Takes the message out of the outbox and gives its room to the writers waiting (under the gate).</summary>
    private void Release(ReliableMessage message)
    {
        if (message.State == ReliableState.Done)
        {
            return;
        }

        if (message.State is ReliableState.Writing or ReliableState.InFlight && message.Generation == _generation && _writing > 0)
        {
            _writing--;
        }

        if (message.State == ReliableState.Due)
        {
            _due.Remove(message);
        }

        if (message.Node is { } node)
        {
            _accepted.Remove(node);
            message.Node = null;
        }

        _byId.Remove(message.Id);
        if (message.State != ReliableState.Waiting)
        {
            _held--;
            _bytes -= message.Data.Length;
        }

        message.State = ReliableState.Done;
        AdmitWaiters();
    }

    // Under the gate.
    private void AdmitWaiters()
    {
        while (_waiters.TryPeek(out var waiter))
        {
            if (waiter.IsSettled)
            {
                _waiters.Dequeue();
                continue;
            }

            if (!Fits(waiter.Item.Data.Length) || !waiter.TrySettle())
            {
                return;
            }

            _waiters.Dequeue();
            Reserve(waiter.Item);
            waiter.Admit();
        }
    }

    private void GiveUpWaiting(RoomWaiter<ReliableMessage> waiter, CancellationToken token)
    {
        lock (_gate)
        {
            if (!waiter.TrySettle())
            {
                return; // admitted a moment ago: the send goes on
            }

            _byId.Remove(waiter.Item.Id);
            AdmitWaiters(); // a smaller message behind it may fit now
        }

        waiter.Admitted.TrySetCanceled(token);
    }

    /// <summary>Ack and delivery timeouts.</summary>
    private void OnTimer()
    {
        List<ReliableMessage>? givenUp = null;
        List<(string Id, int Attempt)>? resent = null;
        lock (_gate)
        {
            _timerDue = long.MaxValue;
            long now = _time.GetTimestamp();
            if (_connected && _options.AckTimeout != Timeout.InfiniteTimeSpan)
            {
                while (_inFlight.Count > 0)
                {
                    var head = _inFlight[0];
                    if (head.State != ReliableState.InFlight || head.Generation != _generation)
                    {
                        _inFlight.PopFront();
                        continue;
                    }

                    if (_time.GetElapsedTime(head.WrittenAt, now) < _options.AckTimeout)
                    {
                        break;
                    }

                    _inFlight.PopFront();
                    if (head.Attempts >= _options.MaxAttempts)
                    {
                        GiveUp(head, SR.Format(SR.ReliableAttemptsSpent, head.Attempts), ref givenUp);
                        continue;
                    }

                    (resent ??= []).Add((head.Id, head.Attempts + 1)); // logged after the lock: a logger is user code
                    MakeDue(head);
                }
            }

            if (_options.DeliveryTimeout is { } deliveryTimeout)
            {
                while (_accepted.First is { } oldest && _time.GetElapsedTime(oldest.Value.AcceptedAt, now) >= deliveryTimeout)
                {
                    GiveUp(oldest.Value, SR.Format(SR.ReliableDeliveryTimedOut, Describe.Duration(deliveryTimeout)), ref givenUp);
                }
            }

            Reschedule();
        }

        Finish(givenUp);
        if (resent is not null)
        {
            foreach (var (id, attempt) in resent)
            {
                Log.ReliableResending(_logger, _name, id, Describe.Duration(_options.AckTimeout), attempt, _options.MaxAttempts);
            }

            _wakeSender();
        }
    }

    /// <summary>Sets the timer to the earliest deadline (under the gate). A timer that fires early finds nothing due and
    /// sets itself again; so it is only moved when a deadline comes earlier than the one it is set for.</summary>
    private void Reschedule()
    {
        long due = long.MaxValue;
        if (_connected && _options.AckTimeout != Timeout.InfiniteTimeSpan)
        {
            while (_inFlight.Count > 0 && (_inFlight[0].State != ReliableState.InFlight || _inFlight[0].Generation != _generation))
            {
                _inFlight.PopFront();
            }

            if (_inFlight.Count > 0)
            {
                due = _inFlight[0].WrittenAt + ToTimestamp(_options.AckTimeout);
            }
        }

        if (_options.DeliveryTimeout is { } deliveryTimeout && _accepted.First is { } oldest)
        {
            due = Math.Min(due, oldest.Value.AcceptedAt + ToTimestamp(deliveryTimeout));
        }

        if (due >= _timerDue || _closed)
        {
            return;
        }

        _timerDue = due;
        var wait = due == long.MaxValue ? Timeout.InfiniteTimeSpan : _time.GetElapsedTime(_time.GetTimestamp(), Math.Max(due, _time.GetTimestamp()));
        _timer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    // Under the gate: out of the outbox now; its send fails and it is reported after the gate is released.
    private void GiveUp(ReliableMessage message, string detail, ref List<ReliableMessage>? givenUp)
    {
        Release(message);
        message.GiveUpDetail = detail;
        (givenUp ??= []).Add(message);
    }

    private void Finish(List<ReliableMessage>? givenUp)
    {
        if (givenUp is null)
        {
            return;
        }

        foreach (var message in givenUp)
        {
            Forget(message.Id);
            Fail(message, DropReason.NotAcknowledged, message.GiveUpDetail);
        }
    }

    private void Fail(ReliableMessage message, DropReason reason, string? detail, bool log = true)
    {
        var exception = new MessageDroppedException(reason, detail) { MessageId = message.Id, Attempts = message.Attempts };
        if (log)
        {
            Log.ReliableGivenUp(_logger, _name, message.Id, exception.Message);
        }

        message.Outcome?.TrySetException(exception);
        _dropped.Publish(new DroppedMessage(MessageDirection.Outgoing, message.MessageType, message.Data.Length, reason)
        {
            MessageId = message.Id,
            Attempts = message.Attempts,
            Detail = detail,
        });
    }

    /// <summary>Removes the message from the store, in the background; a failure is logged (the message comes back once
    /// after the next start, which the server's de-duplication absorbs).</summary>
    private void Forget(string messageId)
    {
        if (_options.Store is not { } store)
        {
            return;
        }

        _ = RemoveAsync(store, messageId);
    }

    private async Task RemoveAsync(IOutboxStore store, string messageId)
    {
        try
        {
            await store.RemoveAsync(messageId, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A store's failure must not reach the receive loop or the timer; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.OutboxRemoveFailed(_logger, _name, messageId, Describe.Cause(ex), ex);
        }
    }
}

internal enum ReliableState
{
    Waiting,
    Reserved,
    Due,
    Writing,
    InFlight,
    Done,
}

/// <summary>One reliable message in the outbox. Its fields are the outbox's, read and written under its lock.</summary>
internal sealed class ReliableMessage(string id, WebSocketMessageType messageType, byte[] data, bool trackOutcome)
{
    public static readonly IComparer<ReliableMessage> BySequence = Comparer<ReliableMessage>.Create(static (a, b) => a.Sequence.CompareTo(b.Sequence));

    public string Id { get; } = id;

    public WebSocketMessageType MessageType { get; } = messageType;

    public byte[] Data { get; } = data;

    /// <summary>For a send that waits for the ack: completes on the ack; faults when the message is rejected, given up or
    /// dropped. Null for a message only enqueued (nobody would observe the fault).</summary>
    public TaskCompletionSource? Outcome { get; } = trackOutcome ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

    public ReliableState State { get; set; }

    public long Sequence { get; set; }

    public long AcceptedAt { get; set; }

    public long WrittenAt { get; set; }

    public int Attempts { get; set; }

    public int Generation { get; set; }

    public LinkedListNode<ReliableMessage>? Node { get; set; }

    public string? GiveUpDetail { get; set; }
}
