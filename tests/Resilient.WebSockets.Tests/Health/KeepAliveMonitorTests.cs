using Microsoft.Extensions.Time.Testing;
using Resilient.WebSockets.Health;

namespace Resilient.WebSockets.Tests.Health;

/// <summary>The client's own keep-alive, on a fake transport and a fake clock. The clock moves to each due time in its own
/// step (a timer re-armed inside a callback counts from where the fake clock stands, not from its due time).</summary>
public sealed class KeepAliveMonitorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

    private readonly FakeTimeProvider _time = new();
    private readonly FakeLink _link = new();
    private readonly List<TimeSpan> _timeouts = [];
    private readonly List<bool> _asked = [];

    private KeepAliveMonitor Start(TimeSpan interval, TimeSpan timeout) =>
        new(_link, interval, timeout, _time, (t, asked) =>
        {
            _timeouts.Add(t);
            _asked.Add(asked);
        });

    [Fact]
    public void CheckNow_PingsAtOnce_AndASilentLinkTimesOutAfterTheShortDeadline()
    {
        using var sut = Start(Interval, Timeout);
        var deadline = TimeSpan.FromSeconds(1);

        sut.CheckNow(deadline);

        Assert.Equal(1, _link.Pings);
        _time.Advance(deadline - TimeSpan.FromTicks(1));
        Assert.Empty(_timeouts);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal([deadline], _timeouts);
        Assert.Equal([true], _asked);
    }

    [Fact]
    public void CheckNow_TheLinkAnswers_TheRegularScheduleGoesOn()
    {
        using var sut = Start(Interval, Timeout);
        _link.AnswerEveryPing = true;

        _time.Advance(TimeSpan.FromSeconds(3));
        sut.CheckNow(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _link.Pings);
        _time.Advance(TimeSpan.FromSeconds(1)); // alive: the next ping one interval after this check
        _time.Advance(Interval - Timeout);

        Assert.Equal(2, _link.Pings);
        Assert.Empty(_timeouts);
    }

    [Fact]
    public void CheckNow_WhileAPingAwaitsDataDueSooner_ChangesNothing()
    {
        using var sut = Start(Interval, Timeout);
        _time.Advance(Interval);
        _time.Advance(Timeout - TimeSpan.FromSeconds(1)); // the check of that ping is 1 s away

        sut.CheckNow(TimeSpan.FromSeconds(3));

        Assert.Equal(1, _link.Pings);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([Timeout], _timeouts);
        Assert.Equal([false], _asked);
    }

    [Fact]
    public void QuietLinkThatAnswers_PingsEveryIntervalAndNeverTimesOut()
    {
        using var sut = Start(Interval, Timeout);
        _link.AnswerEveryPing = true;

        _time.Advance(Interval);
        for (int i = 1; i <= 5; i++)
        {
            Assert.Equal(i, _link.Pings);
            _time.Advance(Timeout);
            _time.Advance(Interval - Timeout - TimeSpan.FromTicks(1));
            Assert.Equal(i, _link.Pings);
            _time.Advance(TimeSpan.FromTicks(1));
        }

        Assert.Empty(_timeouts);
    }

    [Fact]
    public void NothingArrivesAfterAPing_TimesOutExactlyTheTimeoutAfterIt()
    {
        using var sut = Start(Interval, Timeout);

        _time.Advance(Interval);
        Assert.Equal(1, _link.Pings);
        _time.Advance(Timeout - TimeSpan.FromTicks(1));
        Assert.Empty(_timeouts);
        _time.Advance(TimeSpan.FromTicks(1));

        Assert.Equal([Timeout], _timeouts);
        _time.Advance(Interval * 3);
        Assert.Single(_timeouts); // once
        Assert.Equal(1, _link.Pings);
    }

    [Fact]
    public void DataOtherThanThePong_CountsAsAlive()
    {
        using var sut = Start(Interval, Timeout);

        _time.Advance(Interval);
        _link.DataArrives();
        _time.Advance(Timeout);
        Assert.Empty(_timeouts);

        // The next ping one interval after the first; this time nothing comes.
        _time.Advance(Interval - Timeout);
        Assert.Equal(2, _link.Pings);
        _time.Advance(Timeout);
        Assert.Single(_timeouts);
    }

    [Fact]
    public void DataBeforeThePing_DoesNotCount()
    {
        using var sut = Start(Interval, Timeout);

        _time.Advance(Interval - TimeSpan.FromSeconds(1));
        _link.DataArrives();
        _time.Advance(TimeSpan.FromSeconds(1));
        _time.Advance(Timeout);

        Assert.Single(_timeouts);
    }

    [Fact]
    public void TimeoutNotShorterThanInterval_NextPingRightAfterTheCheck()
    {
        using var sut = Start(Interval, Interval);
        _link.AnswerEveryPing = true;

        _time.Advance(Interval);
        Assert.Equal(1, _link.Pings);
        _time.Advance(Interval);
        Assert.Equal(2, _link.Pings);
        _time.Advance(Interval);
        Assert.Equal(3, _link.Pings);
        Assert.Empty(_timeouts);
    }

    [Fact]
    public void PingWriteThatNeverCompletes_StillTimesOutAndNoSecondPingPilesUp()
    {
        using var sut = Start(Interval, Interval);
        _link.PingWrite = new TaskCompletionSource().Task; // the server stopped reading: the write waits for ever

        _time.Advance(Interval);
        _link.DataArrives();
        _time.Advance(Interval); // alive, and it is time for the next ping, but the first one is still being written
        Assert.Equal(1, _link.Pings);
        _time.Advance(Interval);

        Assert.Single(_timeouts);
    }

    [Fact]
    public void PingWriteThatFails_IsObservedAndTheCheckStillDecides()
    {
        using var sut = Start(Interval, Timeout);
        _link.PingWrite = Task.FromException(new IOException("broken pipe"));

        _time.Advance(Interval);
        _time.Advance(Timeout);

        Assert.Single(_timeouts);
    }

    [Fact]
    public void Disposed_NoMorePingsAndNoTimeout()
    {
        var sut = Start(Interval, Timeout);
        _time.Advance(Interval);
        sut.Dispose();

        _time.Advance(Interval * 5);

        Assert.Equal(1, _link.Pings);
        Assert.Empty(_timeouts);
    }

    private sealed class FakeLink : IKeepAliveLink
    {
        private long _reads;

        public bool AnswerEveryPing { get; set; }

        public Task PingWrite { get; set; } = Task.CompletedTask;

        public int Pings { get; private set; }

        public long Reads => _reads;

        public void DataArrives() => _reads++;

        public ValueTask WritePingAsync()
        {
            Pings++;
            if (AnswerEveryPing)
            {
                DataArrives();
            }

            return new ValueTask(PingWrite);
        }
    }
}
