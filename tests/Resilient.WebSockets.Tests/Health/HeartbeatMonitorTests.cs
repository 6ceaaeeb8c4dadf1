using System.Threading.Channels;
using Resilient.WebSockets.Health;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Health;

public class HeartbeatMonitorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(11);
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(4);

    private readonly TestTimeProvider _time = new();
    private readonly Channel<string> _sent = Channel.CreateUnbounded<string>();
    private readonly Channel<TimeSpan> _timeouts = Channel.CreateUnbounded<TimeSpan>();

    private HeartbeatMonitor CreateSut(Func<WebSocketMessage, bool>? isReply = null)
    {
        var options = new HeartbeatOptions { Interval = Interval, Timeout = ReplyTimeout, Message = "hb" };
        if (isReply is not null)
        {
            options.IsReply = isReply;
        }

        return new HeartbeatMonitor(options, _time,
            (text, _) =>
            {
                _sent.Writer.TryWrite(text);
                return default;
            },
            (timeout, _) => _timeouts.Writer.TryWrite(timeout));
    }

    private async Task<string> NextSentAsync() => await _sent.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

    [Fact]
    public async Task SendsTheMessageAfterEachInterval_WhileRepliesCome()
    {
        await using var sut = CreateSut();
        sut.Start();

        for (int round = 0; round < 3; round++)
        {
            await _time.AdvanceWhenWaitingAsync(Interval);
            Assert.Equal("hb", await NextSentAsync());
            await _time.WaitForTimerAsync(ReplyTimeout);
            Assert.True(sut.IsReply(new WebSocketMessage("pong")));
        }

        Assert.False(_timeouts.Reader.TryRead(out _));
    }

    [Fact]
    public async Task MissingReply_ReportsTheTimeoutOnce_AndSendsNoMore()
    {
        var sut = CreateSut();
        sut.Start();
        await _time.AdvanceWhenWaitingAsync(Interval);
        await NextSentAsync();

        await _time.AdvanceWhenWaitingAsync(ReplyTimeout);

        Assert.Equal(ReplyTimeout, await _timeouts.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await sut.DisposeAsync();
        _time.Advance(Interval * 3);
        Assert.False(_sent.Reader.TryRead(out _));
        Assert.False(_timeouts.Reader.TryRead(out _));
    }

    [Fact]
    public async Task AReplyBeforeTheHeartbeatWasSent_DoesNotCountForIt()
    {
        var sut = CreateSut();
        sut.Start();
        Assert.True(sut.IsReply(new WebSocketMessage("pong"))); // nothing awaited yet
        await _time.AdvanceWhenWaitingAsync(Interval);
        await NextSentAsync();

        await _time.AdvanceWhenWaitingAsync(ReplyTimeout);

        Assert.Equal(ReplyTimeout, await _timeouts.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await sut.DisposeAsync();
    }

    [Fact]
    public async Task StoppedBeforeTheInterval_SendsNothing()
    {
        var sut = CreateSut();
        sut.Start();
        await _time.WaitForTimerAsync(Interval);

        await sut.DisposeAsync();
        _time.Advance(Interval * 2);

        Assert.False(_sent.Reader.TryRead(out _));
        Assert.Equal(0, _time.AliveTimers);
    }

    [Fact]
    public async Task APredicateThatThrows_RecognisesNothing()
    {
        await using var sut = CreateSut(_ => throw new InvalidOperationException("user bug"));

        Assert.False(sut.IsReply(new WebSocketMessage("pong")));
    }

    [Fact]
    public async Task OnlyMessagesThePredicateAccepts_AreReplies()
    {
        await using var sut = CreateSut();

        Assert.False(sut.IsReply(new WebSocketMessage("hello")));
        Assert.False(sut.IsReply(new WebSocketMessage("pong"u8.ToArray())));
        Assert.True(sut.IsReply(new WebSocketMessage("pong")));
    }
}
