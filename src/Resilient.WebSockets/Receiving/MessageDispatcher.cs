using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// Hands received messages to the observers of <c>Messages</c>. It lives as long as the client, so messages keep their
/// order across sessions, and it completes <c>Messages</c> once the last buffered message has been delivered.
/// </summary>
/// <remarks>
/// <para>While the observers keep up, the receive loop delivers each message itself, on its own thread: no hand-over,
/// no second thread, the speed of a bare socket. When one delivery has run for <see cref="HandOverAfter"/> (the receive
/// loop's watchdog sees the same delivery on two ticks, <see cref="TryTakeOver"/>), reading moves to a new receive loop,
/// which puts what arrives into the bounded buffer; the thread whose delivery overran becomes the dispatcher when the
/// observer returns, drains the buffer in order, and once it is empty gives inline delivery back to the reader. So the
/// socket is read (pongs and close frames too) while observers are slow, and the buffer's capacity and full mode apply
/// exactly as long as the observers are behind.</para>
/// <para>Phases, in one word (<see cref="_state"/>: a delivery sequence number times four, plus the phase, so the watchdog
/// can tell one long delivery from many short ones): <c>Reading</c> (only the reader moves it, to <c>Delivering</c>),
/// <c>Delivering</c> (the reader moves it back; the watchdog alone moves it to <c>Buffered</c>), <c>Buffered</c> (only
/// the dispatcher moves it back to <c>Reading</c>, under the gate, when the buffer is empty). At most one thread
/// publishes at a time. Every message leaves exactly once: delivered, or reported dropped (a full buffer in a drop mode,
/// a session that ended while the buffer was full, or a message that arrived after dispose).</para>
/// </remarks>
internal sealed class MessageDispatcher
{
    /// <summary>How long one observer call may hold the receive loop before reading moves to another thread (the watchdog's
    /// period; a delivery is taken over on the second tick that finds it still running).</summary>
    internal static readonly TimeSpan HandOverAfter = TimeSpan.FromMilliseconds(100);

    private const long Reading = 0;
    private const long Delivering = 1;
    private const long Buffered = 2;
    private const long PhaseMask = 3;

    private readonly Broadcast<WebSocketMessage> _messages;
    private readonly Action<WebSocketMessageType, int, DropReason> _onDropped;
    private readonly Channel<WebSocketMessage>? _buffer;
    private readonly ConcurrentQueue<WebSocketMessage> _evicted = new();
    private readonly bool _wait;
    private readonly object _gate = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _state;
    private bool _completing;
    private long _handedOver;
    private long _settled;
    private Waiter? _waiter;

    public MessageDispatcher(ReceiveBufferOptions options, Broadcast<WebSocketMessage> messages, Action<WebSocketMessageType, int, DropReason> onDropped)
    {
        _messages = messages;
        _onDropped = onDropped;
        _wait = options.FullMode == ReceiveBufferFullMode.Wait;
        if (options.DeliverInline)
        {
            return;
        }

        _buffer = Channel.CreateBounded<WebSocketMessage>(
            new BoundedChannelOptions(options.Capacity)
            {
                FullMode = options.FullMode switch
                {
                    ReceiveBufferFullMode.DropOldest => BoundedChannelFullMode.DropOldest,
                    ReceiveBufferFullMode.DropNewest => BoundedChannelFullMode.DropNewest,
                    _ => BoundedChannelFullMode.Wait,
                },
                SingleReader = true,
                SingleWriter = true,
                AllowSynchronousContinuations = false,
            },
            _evicted.Enqueue);
    }

    /// <summary>False with <see cref="ReceiveBufferOptions.DeliverInline"/>: observers always run on the receive loop,
    /// and nothing takes a slow delivery over.</summary>
    public bool CanHandOver => _buffer is not null;

    /// <summary>Completes when every message handed over before <see cref="Complete"/> has been delivered (or reported)
    /// and <c>Messages</c> has completed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Adds one message: delivers it now, or (while the observers are behind) puts it into the buffer.</summary>
    /// <param name="message">The whole message.</param>
    /// <param name="cancellationToken">Ends a wait for room (the session is ending).</param>
    /// <returns>True while the caller is still the reader; false when its delivery ran so long that another receive loop
    /// took over reading: the caller has since drained the buffer as the dispatcher and must not read again.</returns>
    public ValueTask<bool> AddAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        if (_buffer is null)
        {
            Deliver(message);
            return new ValueTask<bool>(true);
        }

        long state = Volatile.Read(ref _state);
        if ((state & PhaseMask) != Reading)
        {
            return EnqueueAsync(message, cancellationToken);
        }

        long delivering = (state & ~PhaseMask) + 4 + Delivering;
        Volatile.Write(ref _state, delivering);
        Deliver(message);
        if (Interlocked.CompareExchange(ref _state, delivering - Delivering, delivering) == delivering)
        {
            return new ValueTask<bool>(true);
        }

        Settle(); // this delivery was counted as handed over when it was taken over
        DrainBuffer();
        return new ValueTask<bool>(false);
    }

    /// <summary>The watchdog's tick: true when the delivery under way is the one seen on the previous tick, in which case
    /// the buffer takes over and the caller must start a new reader.</summary>
    /// <param name="lastSeen">The state this watchdog saw on its previous tick (kept by the caller, one per receive loop).</param>
    public bool TryTakeOver(ref long lastSeen)
    {
        long state = Volatile.Read(ref _state);
        long seen = lastSeen;
        lastSeen = state;
        if ((state & PhaseMask) != Delivering || state != seen)
        {
            return false;
        }

        Interlocked.Increment(ref _handedOver); // the overrunning delivery settles when it returns
        if (Interlocked.CompareExchange(ref _state, state - Delivering + Buffered, state) == state)
        {
            return true;
        }

        Interlocked.Decrement(ref _handedOver);
        return false;
    }

    /// <summary>Reports an incoming message that was never assembled (too large).</summary>
    public void ReportDropped(WebSocketMessageType messageType, int length, DropReason reason) => _onDropped(messageType, length, reason);

    /// <summary>A task that completes once every message handed over so far has been delivered or reported; called after
    /// a session's receive loop ended, so that its <c>Disconnected</c> follows its last message.</summary>
    public Task WhenDelivered()
    {
        long target = Volatile.Read(ref _handedOver);
        if (Volatile.Read(ref _settled) >= target)
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A full fence (the exchange) before reading _settled again, as Settle increments before it reads _waiter: one of
        // the two always sees the other. The waiter before this one (an earlier session's, its target lower) completes
        // with it.
        Interlocked.Exchange(ref _waiter, new Waiter(target, done, Volatile.Read(ref _waiter)));
        CheckWaiter();
        return done.Task;
    }

    /// <summary>No more messages: what is buffered is still delivered, then <c>Messages</c> completes; later arrivals are
    /// reported as dropped.</summary>
    public void Complete()
    {
        bool dispatcherFinishes;
        lock (_gate)
        {
            _completing = true;
            _buffer?.Writer.TryComplete();
            dispatcherFinishes = (Volatile.Read(ref _state) & PhaseMask) == Buffered;
        }

        if (!dispatcherFinishes)
        {
            _messages.Complete();
            _completion.TrySetResult();
        }
    }

    private void Drop(WebSocketMessage message, DropReason reason) => _onDropped(message.MessageType, message.ByteLength, reason);

    private void Deliver(WebSocketMessage message)
    {
        if (!_messages.Publish(message))
        {
            Drop(message, DropReason.Disposed);
        }
    }

    private ValueTask<bool> EnqueueAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        Enqueued outcome;
        lock (_gate)
        {
            outcome = (Volatile.Read(ref _state) & PhaseMask) == Reading ? Enqueued.BackToInline
                : _buffer!.Writer.TryWrite(message) ? Enqueued.Written
                : _wait && !_completing ? Enqueued.MustWait
                : Enqueued.Refused;
            if (outcome == Enqueued.Written)
            {
                Interlocked.Increment(ref _handedOver);
            }
        }

        switch (outcome)
        {
            case Enqueued.BackToInline:
                // The dispatcher caught up a moment ago (only this reader leaves Reading).
                return AddAsync(message, cancellationToken);
            case Enqueued.MustWait:
                // Full: wait for room outside the gate. The buffer cannot empty (so the phase cannot leave Buffered)
                // while this writer waits: the channel moves a waiting writer's message in as soon as there is room.
                return WaitForRoomAsync(message, cancellationToken);
            case Enqueued.Refused:
                Drop(message, DropReason.Disposed); // a drop mode refuses only once the client is disposed
                return new ValueTask<bool>(true);
            default:
                ReportEvicted();
                return new ValueTask<bool>(true);
        }
    }

    private async ValueTask<bool> WaitForRoomAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _buffer!.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _handedOver);
        }
        catch (OperationCanceledException)
        {
            // The session ended while the observers were behind: this one cannot wait longer.
            Drop(message, DropReason.ReceiveBufferFull);
        }
        catch (ChannelClosedException)
        {
            Drop(message, DropReason.Disposed);
        }

        return true;
    }

    /// <summary>The dispatcher's work, on the thread whose delivery overran: delivers what the new reader buffered, in
    /// order, until the buffer is empty; then gives inline delivery back to the reader (or, once the client is disposed,
    /// completes <c>Messages</c>).</summary>
    private void DrainBuffer()
    {
        var reader = _buffer!.Reader;
        while (true)
        {
            while (reader.TryRead(out var message))
            {
                Deliver(message);
                Settle();
            }

            lock (_gate)
            {
                if (reader.TryPeek(out _))
                {
                    continue;
                }

                if (!_completing)
                {
                    Volatile.Write(ref _state, Volatile.Read(ref _state) - Buffered + Reading);
                    return;
                }
            }

            _messages.Complete();
            _completion.TrySetResult();
            Volatile.Read(ref _waiter)?.Complete();
            return;
        }
    }

    private void ReportEvicted()
    {
        while (_evicted.TryDequeue(out var message))
        {
            Drop(message, DropReason.ReceiveBufferFull);
            Settle();
        }
    }

    private void Settle()
    {
        Interlocked.Increment(ref _settled);
        CheckWaiter();
    }

    private void CheckWaiter()
    {
        if (Volatile.Read(ref _waiter) is { } waiter && Volatile.Read(ref _settled) >= waiter.Target)
        {
            waiter.Complete();
        }
    }

    private enum Enqueued
    {
        Written,
        BackToInline,
        MustWait,
        Refused,
    }

    private sealed class Waiter(long target, TaskCompletionSource done, Waiter? previous)
    {
        private Waiter? _previous = previous;

        public long Target => target;

        /// <summary>Completes this waiter and every earlier one (they waited for less).</summary>
        public void Complete()
        {
            done.TrySetResult();
            Interlocked.Exchange(ref _previous, null)?.Complete();
        }
    }
}
