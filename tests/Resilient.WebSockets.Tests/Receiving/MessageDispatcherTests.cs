using System.Net.WebSockets;
using System.Reactive;
using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Receiving;

namespace Resilient.WebSockets.Tests.Receiving;

public class MessageDispatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Broadcast<WebSocketMessage> _messages = new(_ => { });
    private readonly List<string> _delivered = [];
    private readonly List<(int Length, DropReason Reason)> _dropped = [];
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MessageDispatcherTests() =>
        _messages.Subscribe(Observer.Create<WebSocketMessage>(
            message =>
            {
                lock (_delivered)
                {
                    _delivered.Add(message.Text);
                }
            },
            _completed.SetResult));

    private List<string> Delivered
    {
        get
        {
            lock (_delivered)
            {
                return [.. _delivered];
            }
        }
    }

    private List<(int Length, DropReason Reason)> Dropped
    {
        get
        {
            lock (_dropped)
            {
                return [.. _dropped];
            }
        }
    }

    private MessageDispatcher CreateSut(int capacity = 16, ReceiveBufferFullMode mode = ReceiveBufferFullMode.Wait, bool inline = false) =>
        new(new ReceiveBufferOptions { Capacity = capacity, FullMode = mode, DeliverInline = inline }, _messages,
            (_, length, reason) =>
            {
                lock (_dropped)
                {
                    _dropped.Add((length, reason));
                }
            });

    private static WebSocketMessage Text(string text) => new(text);

    private static string Number(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The reader's delivery of <paramref name="first"/> blocks in an observer until <paramref name="release"/>
    /// and is taken over, as the watchdog would; from then on the test is the new reader.</summary>
    private static async Task<Task<bool>> OverrunAsync(MessageDispatcher sut, string first, ManualResetEventSlim entered)
    {
        var stuck = Task.Run(() => sut.AddAsync(Text(first), CancellationToken.None).AsTask());
        Assert.True(entered.Wait(Timeout));
        long seen = 0;
        Assert.False(sut.TryTakeOver(ref seen)); // the first tick only notes the delivery under way
        Assert.True(sut.TryTakeOver(ref seen));
        Assert.False(stuck.IsCompleted);
        return stuck;
    }

    private IDisposable SubscribeBlocking(ManualResetEventSlim entered, ManualResetEventSlim release, string? only = null) =>
        _messages.Subscribe(Observer.Create<WebSocketMessage>(message =>
        {
            if (only is null || message.Text == only)
            {
                entered.Set();
                release.Wait(Timeout);
            }
        }));

    [Fact]
    public async Task Inline_DeliversOnTheCallersThread_BeforeAddReturns()
    {
        var sut = CreateSut(inline: true);

        Assert.True(await sut.AddAsync(Text("a"), CancellationToken.None));

        Assert.Equal(["a"], Delivered);
        Assert.False(sut.CanHandOver);
    }

    [Fact]
    public async Task ObserversKeepingUp_AreCalledOnTheReadersThread_BeforeAddReturns()
    {
        var sut = CreateSut();

        var added = sut.AddAsync(Text("a"), CancellationToken.None);

        Assert.True(added.IsCompletedSuccessfully);
        Assert.True(await added);
        Assert.Equal(["a"], Delivered);
        Assert.True(sut.CanHandOver);
    }

    [Fact]
    public async Task TryTakeOver_ManyShortDeliveriesBetweenTicks_AreNeverTakenOver()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "3");
        var sut = CreateSut();
        long seen = 0;

        await sut.AddAsync(Text("1"), CancellationToken.None);
        Assert.False(sut.TryTakeOver(ref seen)); // nothing under way
        var third = Task.Run(async () =>
        {
            await sut.AddAsync(Text("2"), CancellationToken.None);
            return await sut.AddAsync(Text("3"), CancellationToken.None);
        });
        Assert.True(entered.Wait(Timeout));

        Assert.False(sut.TryTakeOver(ref seen)); // "3" is under way, but this tick is the first to see it
        release.Set();
        Assert.True(await third.WaitAsync(Timeout)); // returned before a second tick: still the reader
        Assert.False(sut.TryTakeOver(ref seen));
        Assert.Equal(["1", "2", "3"], Delivered);
    }

    [Fact]
    public async Task ADeliveryTakenOver_BuffersWhatTheNewReaderAdds_ThenDrainsItInOrder_AndGivesInlineDeliveryBack()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "1");
        var sut = CreateSut();
        var stuck = await OverrunAsync(sut, "1", entered);

        Assert.True(await sut.AddAsync(Text("2"), CancellationToken.None)); // buffered: returns while "1" is still observed
        Assert.True(await sut.AddAsync(Text("3"), CancellationToken.None));
        var delivered = sut.WhenDelivered();
        Assert.False(delivered.IsCompleted);
        Assert.Equal(["1"], Delivered); // the recording observer comes before the blocking one

        release.Set();
        Assert.False(await stuck.WaitAsync(Timeout)); // the overrun thread drained the buffer and stops reading
        await delivered.WaitAsync(Timeout);
        Assert.Equal(["1", "2", "3"], Delivered);

        var next = sut.AddAsync(Text("4"), CancellationToken.None);
        Assert.True(next.IsCompletedSuccessfully); // inline again
        Assert.Equal(["1", "2", "3", "4"], Delivered);
    }

    [Fact]
    public async Task WhenDelivered_WaitsForTheDeliveryThatWasTakenOver()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release);
        var sut = CreateSut();
        var stuck = await OverrunAsync(sut, "a", entered);

        var delivered = sut.WhenDelivered();
        Assert.False(delivered.IsCompleted);

        release.Set();
        await delivered.WaitAsync(Timeout);
        await stuck.WaitAsync(Timeout);
        Assert.Equal(["a"], Delivered);
    }

    [Fact]
    public async Task WhenDelivered_CalledAgainWhileTheObserversAreStillBehind_CompletesTheEarlierWaitToo()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "a");
        var sut = CreateSut();
        var stuck = await OverrunAsync(sut, "a", entered);

        var firstSession = sut.WhenDelivered(); // one session ended behind the observers...
        await sut.AddAsync(Text("b"), CancellationToken.None);
        var secondSession = sut.WhenDelivered(); // ...and the next one too, before they caught up

        release.Set();
        await secondSession.WaitAsync(Timeout);
        await firstSession.WaitAsync(Timeout);
        await stuck.WaitAsync(Timeout);
        Assert.Equal(["a", "b"], Delivered);
    }

    [Fact]
    public async Task DropOldest_ReportsEveryEvictedMessage_SoEachIsDeliveredOrReported()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "0");
        var sut = CreateSut(capacity: 2, mode: ReceiveBufferFullMode.DropOldest);
        var stuck = await OverrunAsync(sut, "0", entered);

        for (int i = 1; i < 10; i++)
        {
            await sut.AddAsync(Text(Number(i)), CancellationToken.None);
        }

        release.Set();
        await stuck.WaitAsync(Timeout);
        await sut.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["0", "8", "9"], Delivered);
        Assert.Equal(7, Dropped.Count);
        Assert.All(Dropped, drop => Assert.Equal((1, DropReason.ReceiveBufferFull), drop));
    }

    [Fact]
    public async Task Wait_WhenTheSessionEndsWhileWaitingForRoom_ReportsTheMessage()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "1");
        var sut = CreateSut(capacity: 1);
        using var sessionEnded = new CancellationTokenSource();
        var stuck = await OverrunAsync(sut, "1", entered);

        await sut.AddAsync(Text("2"), CancellationToken.None); // fills the buffer
        var third = sut.AddAsync(Text("third"), sessionEnded.Token).AsTask();
        Assert.False(third.IsCompleted); // waits for room: the reader stops reading
        await sessionEnded.CancelAsync();
        Assert.True(await third.WaitAsync(Timeout));

        Assert.Equal([("third".Length, DropReason.ReceiveBufferFull)], Dropped);
        release.Set();
        await stuck.WaitAsync(Timeout);
        await sut.WhenDelivered().WaitAsync(Timeout);
        Assert.Equal(["1", "2"], Delivered);
    }

    [Fact]
    public async Task Wait_RoomAppearsAsTheDispatcherCatchesUp_TheWaitingMessageIsDeliveredInOrder()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "1");
        var sut = CreateSut(capacity: 1);
        var stuck = await OverrunAsync(sut, "1", entered);
        await sut.AddAsync(Text("2"), CancellationToken.None);
        var third = sut.AddAsync(Text("3"), CancellationToken.None).AsTask();

        release.Set();
        Assert.True(await third.WaitAsync(Timeout));
        Assert.False(await stuck.WaitAsync(Timeout));
        await sut.AddAsync(Text("4"), CancellationToken.None);
        await sut.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["1", "2", "3", "4"], Delivered);
        Assert.Empty(Dropped);
    }

    [Fact]
    public async Task Complete_WhileTheObserversAreBehind_DeliversWhatIsBuffered_ThenCompletesMessages_AndReportsLaterArrivals()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var blocking = SubscribeBlocking(entered, release, only: "a");
        var sut = CreateSut();
        var stuck = await OverrunAsync(sut, "a", entered);
        await sut.AddAsync(Text("b"), CancellationToken.None);

        sut.Complete();
        Assert.False(sut.Completion.IsCompleted);
        await sut.AddAsync(Text("late"), CancellationToken.None);
        release.Set();
        await _completed.Task.WaitAsync(Timeout);
        await sut.Completion.WaitAsync(Timeout);
        await stuck.WaitAsync(Timeout);
        await sut.AddAsync(Text("later"), CancellationToken.None);

        Assert.Equal(["a", "b"], Delivered);
        Assert.Equal([("late".Length, DropReason.Disposed), ("later".Length, DropReason.Disposed)], Dropped);
    }

    [Fact]
    public async Task Complete_WhileKeepingUp_CompletesAtOnce_AndReportsLaterArrivals()
    {
        var sut = CreateSut();
        await sut.AddAsync(Text("a"), CancellationToken.None);

        sut.Complete();
        await _completed.Task.WaitAsync(Timeout);
        await sut.Completion.WaitAsync(Timeout);
        await sut.AddAsync(Text("late"), CancellationToken.None);

        Assert.Equal(["a"], Delivered);
        Assert.Equal([("late".Length, DropReason.Disposed)], Dropped);
    }

    [Fact]
    public async Task Inline_AfterComplete_ReportsTheMessageInsteadOfPublishing()
    {
        var sut = CreateSut(inline: true);
        sut.Complete();

        await sut.AddAsync(Text("late"), CancellationToken.None);

        Assert.Empty(Delivered);
        Assert.Equal([(4, DropReason.Disposed)], Dropped);
        Assert.True(_completed.Task.IsCompleted);
    }

    [Fact]
    public void ReportDropped_PassesTheLengthAndReasonThrough()
    {
        var sut = CreateSut();

        sut.ReportDropped(WebSocketMessageType.Binary, 1025, DropReason.MessageTooLarge);

        Assert.Equal([(1025, DropReason.MessageTooLarge)], Dropped);
    }
}
