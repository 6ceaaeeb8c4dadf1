using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Resilient.WebSockets.Receiving;

namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells the test when code under test starts a timer (a delay, a timeout),
/// so the test can advance the clock exactly when something is waiting, and that counts the timers still alive.
/// </summary>
public sealed class TestTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();
    private int _alive;

    public int AliveTimers => Volatile.Read(ref _alive);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _alive);
        _created.Writer.TryWrite(dueTime);
        return new TrackedTimer(timer, this);
    }

    /// <summary>Waits until a timer due in <paramref name="dueTime"/> has been started (created, or changed to that due
    /// time); timers with other due times are passed over.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime)
    {
        using var timeout = new CancellationTokenSource(Testing.ClientProbe.DefaultTimeout);
        try
        {
            while (await _created.Reader.ReadAsync(timeout.Token) != dueTime)
            {
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No timer due in {dueTime} was started.");
        }
    }

    /// <summary>Waits for a timer due in <paramref name="dueTime"/>, then moves the clock past it.</summary>
    public async Task AdvanceWhenWaitingAsync(TimeSpan dueTime)
    {
        await WaitForTimerAsync(dueTime);
        Advance(dueTime);
    }

    /// <summary>Moves the clock two receive-watchdog ticks on: an observer call under way since before this call has
    /// outlasted the hand-over, so reading moves to a new receive loop.</summary>
    public void AdvancePastHandOver()
    {
        Advance(MessageDispatcher.HandOverAfter);
        Advance(MessageDispatcher.HandOverAfter);
    }

    private sealed class TrackedTimer(ITimer inner, TestTimeProvider owner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            if (changed && dueTime != Timeout.InfiniteTimeSpan)
            {
                owner._created.Writer.TryWrite(dueTime); // a timer started again is waited for like a new one
            }

            return changed;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._alive);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
