using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Resilient.WebSockets.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells the test when the client starts a timer (a backoff delay, a connect
/// timeout, a keep-alive), so the test moves the clock on exactly when something waits on it, never before (which
/// would move time past nothing) and never with a sleep.
/// </summary>
/// <remarks>Put it in <see cref="ReconnectingWebSocketOptions.TimeProvider"/> (and give it to the
/// <see cref="InMemoryWebSocketServer"/>): <c>await clock.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1))</c> then
/// runs the client's one-second backoff at once.</remarks>
public class TestTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _started = Channel.CreateUnbounded<TimeSpan>();
    private int _alive;

    /// <summary>How long <see cref="WaitForTimerAsync"/> waits for a timer by default.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Timers created and not yet disposed.</summary>
    public int AliveTimers => Volatile.Read(ref _alive);

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Interlocked.Increment(ref _alive);
        _started.Writer.TryWrite(dueTime);
        return new TrackedTimer(timer, this);
    }

    /// <summary>Waits until a timer due in <paramref name="dueTime"/> has been started (created, or changed to that due
    /// time) since the last wait that found one; timers with other due times are passed over.</summary>
    /// <param name="dueTime">The timer's due time, for example the backoff delay the client announced.</param>
    /// <param name="timeout">How long to wait (real time); null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes when such a timer was started.</returns>
    /// <exception cref="TimeoutException">No such timer was started in time.</exception>
    public Task WaitForTimerAsync(TimeSpan dueTime, TimeSpan? timeout = null) =>
        WaitForMatchingTimerAsync(due => due == dueTime, dueTime.ToString(), timeout);

    /// <summary>Waits for a timer whose due time <paramref name="matches"/>, and returns that due time.</summary>
    private async Task<TimeSpan> WaitForMatchingTimerAsync(Func<TimeSpan, bool> matches, string what, TimeSpan? timeout)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (true)
            {
                var due = await _started.Reader.ReadAsync(cancel.Token).ConfigureAwait(false);
                if (matches(due))
                {
                    return due;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No timer due in {what} was started within {timeout ?? DefaultTimeout}.");
        }
    }

    /// <summary>Waits for a timer due in <paramref name="dueTime"/>, then moves the clock on by that much.</summary>
    /// <param name="dueTime">The timer's due time.</param>
    /// <param name="timeout">How long to wait for the timer (real time); null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes when the clock has moved.</returns>
    /// <exception cref="TimeoutException">No such timer was started in time.</exception>
    public async Task AdvanceWhenWaitingAsync(TimeSpan dueTime, TimeSpan? timeout = null)
    {
        await WaitForTimerAsync(dueTime, timeout).ConfigureAwait(false);
        Advance(dueTime);
    }

    /// <summary>Lets the client's next wait before a connect attempt pass at once, however long it is (jitter
    /// included): waits for <paramref name="probe"/> to see the client announce it, then for its timer, then moves the
    /// clock on by that much.</summary>
    /// <param name="probe">A probe of the client (see <see cref="ClientProbe.WaitForNextAttemptDelayAsync"/>).</param>
    /// <param name="timeout">How long to wait for each step (real time); null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>The wait that passed.</returns>
    /// <exception cref="TimeoutException">The client announced no wait, or started no timer for it, in time.</exception>
    public async Task<TimeSpan> AdvanceToNextAttemptAsync(ClientProbe probe, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var delay = await probe.WaitForNextAttemptDelayAsync(timeout).ConfigureAwait(false);
        if (delay <= TimeSpan.Zero)
        {
            return delay;
        }

        // Task.Delay on a TimeProvider keeps whole milliseconds: the timer may be due up to a millisecond sooner.
        var due = await WaitForMatchingTimerAsync(d => d <= delay && delay - d < TimeSpan.FromMilliseconds(1), delay.ToString(), timeout).ConfigureAwait(false);
        Advance(due);
        return due;
    }

    private sealed class TrackedTimer(ITimer inner, TestTimeProvider owner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            if (changed && dueTime != Timeout.InfiniteTimeSpan)
            {
                owner._started.Writer.TryWrite(dueTime); // a timer started again is waited for like a new one
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
