using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Receiving;

public class ReceiveWatchdogTests
{
    private readonly TestTimeProvider _time = new();

    [Fact]
    public void EveryLoopOnOneClock_SharesOneTimer_WhichStopsWithTheLast()
    {
        var sut = ReceiveWatchdog.For(_time);
        int first = 0, second = 0;
        Action a = () => first++, b = () => second++;

        sut.Register(a);
        sut.Register(b);
        Assert.Equal(1, _time.AliveTimers);
        _time.Advance(MessageDispatcher.HandOverAfter);
        Assert.Equal((1, 1), (first, second));

        sut.Unregister(a);
        _time.Advance(MessageDispatcher.HandOverAfter);
        Assert.Equal((1, 2), (first, second));
        Assert.Equal(1, _time.AliveTimers);

        sut.Unregister(b);
        Assert.Equal(0, _time.AliveTimers);
        _time.Advance(MessageDispatcher.HandOverAfter);
        Assert.Equal((1, 2), (first, second));
    }

    [Fact]
    public void For_TheSameClock_IsTheSameWatchdog_AnotherClockHasItsOwn()
    {
        Assert.Same(ReceiveWatchdog.For(_time), ReceiveWatchdog.For(_time));
        Assert.NotSame(ReceiveWatchdog.For(_time), ReceiveWatchdog.For(new TestTimeProvider()));
    }

    [Fact]
    public void TheAppsClock_IsNeverCalledUnderTheWatchdogsLock()
    {
        // The clock may be the app's own TimeProvider: one that calls back into the watchdog from another thread while
        // creating its timer must not wait on a lock held around that call.
        var clock = new ReentrantClock();
        var sut = ReceiveWatchdog.For(clock);
        clock.OnCreateTimer = () => Task.Run(() => sut.Register(() => { })).Wait(TimeSpan.FromSeconds(5));

        sut.Register(() => { });

        Assert.True(clock.CallbackReturned);
    }

    private sealed class ReentrantClock : TimeProvider
    {
        public Func<bool>? OnCreateTimer { get; set; }

        public bool CallbackReturned { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var onCreate = OnCreateTimer;
            OnCreateTimer = null; // once: the nested registration creates no second timer
            CallbackReturned |= onCreate?.Invoke() ?? false;
            return base.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
