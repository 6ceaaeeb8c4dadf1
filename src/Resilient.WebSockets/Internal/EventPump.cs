using System.Collections.Concurrent;

namespace Resilient.WebSockets.Internal;

/// <summary>
/// Delivers one client's events (state changes, connects, disconnects, drops) to their observers: one call at a time,
/// in the order the events were posted, each event to every observer before the next one, and never on a thread that
/// holds one of the client's locks.
/// </summary>
/// <remarks>
/// <para>Posting only enqueues, so the client may post while it holds a lock (that keeps events in the order of the
/// decisions behind them). One drain at a time runs the queue, on the thread pool; <see cref="DrainHere"/> lets a
/// subscriber whose thread holds nothing of the client drain at once, so that a new subscriber usually gets its replay
/// before <c>Subscribe</c> returns. An observer that calls back into the client (even <c>StopAsync</c> or
/// <c>DisposeAsync</c>) only posts more events: they are delivered after the current one, never inside it.</para>
/// <para>A barrier (<see cref="PostBarrier"/>) holds back every later event until its task completes: the client uses
/// it to publish a session's <c>Disconnected</c> only after that session's last message reached the observers.</para>
/// <para>Memory stays bounded when events come faster than the observers take them (a million drops from a producer in a
/// tight loop, a hostile server's flood of messages the receive buffer drops): the code that causes events calls
/// <see cref="WaitForRoom"/> where it holds no lock, and waits there while more than <see cref="MaxPending"/> events
/// wait. It never waits on a thread that is delivering events (an observer that sends), nor while the pump is held back
/// by a barrier, nor for observers that make no progress (a stuck observer, or one waiting on a lock the sender holds,
/// would otherwise hang the sender): those cases post on, as before.</para>
/// </remarks>
internal sealed class EventPump
{
    /// <summary>How many events may wait for the observers before a thread that causes more is made to wait.</summary>
    public const int MaxPending = 4096;

    /// <summary>How long (in rounds of <see cref="WaitForRoom"/>: ten yields, then about a millisecond each) the
    /// observers may make no progress before a waiting thread gives up waiting for them.</summary>
    public const int DefaultStallRounds = 110;

    /// <summary>Set on a thread while it delivers events of any pump: such a thread never waits for room.</summary>
    [ThreadStatic]
    private static bool t_delivering;

    private readonly ConcurrentQueue<Item> _items = new();
    private readonly Action _resume;
    private int _draining;
    private long _posted;
    private long _delivered;
    private long _stalledAt = -1;
    private int _waiting;
    private long _waitCount;
    private volatile bool _parked;
    private readonly int _stallRounds;

    /// <param name="stallRounds">Rounds without progress after which <see cref="WaitForRoom"/> gives up (tests that
    /// must not depend on how soon a loaded machine schedules the observers pass a larger number).</param>
    public EventPump(int stallRounds = DefaultStallRounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stallRounds, 1);
        _stallRounds = stallRounds;
        _resume = Drain;
    }

    /// <summary>Queues <paramref name="action"/> (delivery code that guards each observer call itself).</summary>
    public void Post(Action action) => Enqueue(new Item(action, null, null));

    /// <summary>Queues <paramref name="value"/> for <paramref name="target"/>: no closure, so a flood of events (a
    /// million drops) costs the queue a slot and the event itself each.</summary>
    public void Post(IPumpTarget target, object value) => Enqueue(new Item(target, value, null));

    /// <summary>Holds back everything posted after this until <paramref name="task"/> has completed.</summary>
    public void PostBarrier(Task task)
    {
        if (!task.IsCompleted)
        {
            Enqueue(new Item(null, null, task));
        }
    }

    /// <summary>A task that completes once everything posted before this call has been delivered.</summary>
    public Task WhenDelivered()
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(delivered.SetResult);
        return delivered.Task;
    }

    /// <summary>Drains on the calling thread if no drain is running (the caller must hold none of the client's locks).</summary>
    public void DrainHere()
    {
        if (TryAcquire())
        {
            Drain();
        }
    }

    /// <summary>Events posted and not yet delivered (held behind a barrier included).</summary>
    public long Pending => Volatile.Read(ref _posted) - Volatile.Read(ref _delivered);

    /// <summary>Threads waiting in <see cref="WaitForRoom"/> now (for tests).</summary>
    internal int Waiting => Volatile.Read(ref _waiting);

    /// <summary>How many times a thread began to wait in <see cref="WaitForRoom"/> (for tests).</summary>
    internal long WaitCount => Volatile.Read(ref _waitCount);

    /// <summary>True while a barrier holds the pump back (for tests).</summary>
    internal bool IsParked => _parked;

    /// <summary>
    /// Called where the caller holds none of the client's locks, before it does what may post events (a send, a
    /// receive): while more than <see cref="MaxPending"/> events wait for the observers, waits until half of them are
    /// delivered. Returns at once on a thread delivering events, while a barrier holds the pump back, and when the
    /// observers made no progress for about a hundred milliseconds (<see cref="DefaultStallRounds"/>) (then also later, until they do).
    /// </summary>
    public void WaitForRoom()
    {
        if (Pending <= MaxPending || t_delivering || _parked || Volatile.Read(ref _stalledAt) == Volatile.Read(ref _delivered))
        {
            return;
        }

        Interlocked.Increment(ref _waiting);
        Interlocked.Increment(ref _waitCount);
        try
        {
            long seen = Volatile.Read(ref _delivered);
            int idle = 0;
            while (Pending > MaxPending / 2 && !_parked)
            {
                // Yield first (the observers may be on the other core), then sleep a millisecond a round.
                Thread.Sleep(idle < 10 ? 0 : 1);
                long delivered = Volatile.Read(ref _delivered);
                if (delivered != seen)
                {
                    seen = delivered;
                    idle = 0;
                }
                else if (++idle == _stallRounds)
                {
                    Volatile.Write(ref _stalledAt, delivered);
                    return;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private void Enqueue(Item item)
    {
        Interlocked.Increment(ref _posted);
        _items.Enqueue(item);
        if (TryAcquire())
        {
            ThreadPool.UnsafeQueueUserWorkItem(static pump => pump.Drain(), this, preferLocal: false);
        }
    }

    private bool TryAcquire() => Interlocked.CompareExchange(ref _draining, 1, 0) == 0;

    /// <summary>Runs the queue; only the holder of <see cref="_draining"/> calls this, so items run one at a time.</summary>
    private void Drain()
    {
        _parked = false;
        bool outer = t_delivering;
        t_delivering = true;
        try
        {
            while (true)
            {
                while (_items.TryPeek(out var item))
                {
                    if (item.Barrier is { IsCompleted: false } barrier)
                    {
                        // Still the drainer: resume when the barrier falls, with everything behind it still queued in order.
                        _parked = true;
                        barrier.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_resume);
                        return;
                    }

                    _items.TryDequeue(out _);
                    switch (item.Work)
                    {
                        case Action action:
                            action();
                            break;
                        case IPumpTarget target:
                            target.Deliver(item.Value!);
                            break;
                    }

                    Volatile.Write(ref _delivered, _delivered + 1); // one drainer at a time: the only writer
                }

                Volatile.Write(ref _draining, 0);
                if (_items.IsEmpty || !TryAcquire())
                {
                    return;
                }
            }
        }
        finally
        {
            t_delivering = outer;
        }
    }

    private readonly record struct Item(object? Work, object? Value, Task? Barrier);
}

/// <summary>Something the pump delivers values to (an event stream).</summary>
internal interface IPumpTarget
{
    void Deliver(object value);
}
