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
}
