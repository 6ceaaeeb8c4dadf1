using System.Runtime.CompilerServices;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// The hand-over watchdog's clock: one timer per <see cref="TimeProvider"/>, ticking every
/// <see cref="MessageDispatcher.HandOverAfter"/> while at least one receive loop runs, for all of them. A timer per
/// session would wake the process ten times a second per connection (a load-test app with 10 000 connections: 100 000
/// wake-ups a second for idle links); one shared tick costs a few nanoseconds per loop.
/// </summary>
/// <remarks>No timer runs while no loop is registered (so an idle process, and a test's fake clock, has none). Each tick
/// calls the loops outside the gate; a loop's tick touches only its own state and its dispatcher's, never user code.</remarks>
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
            if (_loops.Add(onTick))
            {
                _snapshot = [.. _loops];
                _timer ??= _time.CreateTimer(static state => ((ReceiveWatchdog)state!).Tick(), this, MessageDispatcher.HandOverAfter, MessageDispatcher.HandOverAfter);
            }
        }
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

    private void Tick()
    {
        foreach (var onTick in Volatile.Read(ref _snapshot))
        {
            onTick();
        }
    }
}
