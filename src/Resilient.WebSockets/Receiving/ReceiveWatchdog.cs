using System.Runtime.CompilerServices;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// The hand-over watchdog's clock: one timer per <see cref="TimeProvider"/>, ticking every
/// <see cref="MessageDispatcher.HandOverAfter"/> while at least one receive loop runs, for all of them. A timer per
/// session would wake the process ten times a second per connection (a load-test app with 10 000 connections: 100 000
/// wake-ups a second for idle links); one shared tick costs a few nanoseconds per loop.
/// </summary>
/// <remarks>No timer runs while no loop is registered (so an idle process, and a test's fake clock, has none). The
/// clock is never called under the gate, and each tick calls the loops outside it; a loop's tick touches only its own
/// state and its dispatcher's, never user code.</remarks>
internal sealed class ReceiveWatchdog
{
    private static readonly ConditionalWeakTable<TimeProvider, ReceiveWatchdog> ByClock = new();

    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly HashSet<Action> _loops = [];
    private Action[] _snapshot = [];
    private ITimer? _timer;

    private ReceiveWatchdog(TimeProvider time) => _time = time;

    /// <summary>The watchdog of <paramref name="time"/>, shared by every loop on that clock.</summary>
    public static ReceiveWatchdog For(TimeProvider time) => ByClock.GetValue(time, static clock => new ReceiveWatchdog(clock));

    /// <summary>Calls <paramref name="onTick"/> on every tick until <see cref="Unregister"/>.</summary>
    public void Register(Action onTick)
    {
        lock (_gate)
        {
            _loops.Add(onTick);
            _snapshot = [.. _loops];
        }

        EnsureTimer();
    }

    public void Unregister(Action onTick)
    {
        ITimer? stopped = null;
        lock (_gate)
        {
            if (_loops.Remove(onTick))
            {
                _snapshot = [.. _loops];
                if (_loops.Count == 0)
                {
                    stopped = _timer;
                    _timer = null;
                }
            }
        }

        stopped?.Dispose();
    }

    /// <summary>Starts the timer if loops are registered and none runs. The clock is the app's (a
    /// <see cref="TimeProvider"/> it may have written), so its timer is created and disposed outside the gate; a timer
    /// that lost a race (another registration installed one first, or the last loop left meanwhile) is disposed.</summary>
    private void EnsureTimer()
    {
        lock (_gate)
        {
            if (_timer is not null || _loops.Count == 0)
            {
                return;
            }
        }

        var timer = _time.CreateTimer(static state => ((ReceiveWatchdog)state!).Tick(), this, MessageDispatcher.HandOverAfter, MessageDispatcher.HandOverAfter);
        lock (_gate)
        {
            if (_timer is null && _loops.Count > 0)
            {
                _timer = timer;
                return;
            }
        }

        timer.Dispose();
    }

    private void Tick()
    {
        foreach (var onTick in Volatile.Read(ref _snapshot))
        {
            onTick();
        }
    }
}
