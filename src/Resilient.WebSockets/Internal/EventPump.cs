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
/// </remarks>
internal sealed class EventPump
{
    private readonly ConcurrentQueue<Item> _items = new();
    private readonly Action _resume;
    private int _draining;

    public EventPump() => _resume = Drain;

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

    private void Enqueue(Item item)
    {
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
        while (true)
        {
            while (_items.TryPeek(out var item))
            {
                if (item.Barrier is { IsCompleted: false } barrier)
                {
                    // Still the drainer: resume when the barrier falls, with everything behind it still queued in order.
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
            }

            Volatile.Write(ref _draining, 0);
            if (_items.IsEmpty || !TryAcquire())
            {
                return;
            }
        }
    }

    private readonly record struct Item(object? Work, object? Value, Task? Barrier);
}

/// <summary>Something the pump delivers values to (an event stream).</summary>
internal interface IPumpTarget
{
    void Deliver(object value);
}
