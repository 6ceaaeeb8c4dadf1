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

    [Fact]
    public async Task Inline_DeliversOnTheCallersThread_BeforeAddReturns()
    {
        var sut = CreateSut(inline: true);

        await sut.AddAsync(Text("a"), CancellationToken.None);

        Assert.Equal(["a"], Delivered);
    }

    [Fact]
    public async Task Buffered_HandsTheBatchOver_OnlyWhenTheNextReadWouldWait()
    {
        var sut = CreateSut();

        await sut.AddAsync(Text("a"), CancellationToken.None);
        await sut.AddAsync(Text("b"), CancellationToken.None);
        await sut.WhenDelivered().WaitAsync(Timeout);
        Assert.Empty(Delivered);

        await sut.OnReadPendingAsync(CancellationToken.None);
        await sut.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["a", "b"], Delivered);
    }

    [Fact]
    public async Task Buffered_HandsAFullBatchOver_WithoutWaitingForAPendingRead()
    {
        var sut = CreateSut(capacity: 1024);

        for (int i = 0; i < MessageDispatcher.MaxBatch + 1; i++)
        {
            await sut.AddAsync(Text("m"), CancellationToken.None);
        }

        await sut.WhenDelivered().WaitAsync(Timeout);
        Assert.Equal(MessageDispatcher.MaxBatch, Delivered.Count);
    }

    [Fact]
    public async Task WhenDelivered_WaitsForTheObserversToTakeEveryMessageHandedOver()
    {
        using var release = new ManualResetEventSlim();
        _messages.Subscribe(Observer.Create<WebSocketMessage>(_ => release.Wait(Timeout)));
        var sut = CreateSut();
        await sut.AddAsync(Text("a"), CancellationToken.None);
        await sut.OnReadPendingAsync(CancellationToken.None);

        var delivered = sut.WhenDelivered();
        Assert.False(delivered.IsCompleted);

        release.Set();
        await delivered.WaitAsync(Timeout);
        Assert.Equal(["a"], Delivered);
    }

    [Fact]
    public async Task DropOldest_ReportsEveryEvictedMessage_SoEachIsDeliveredOrReported()
    {
        using var release = new ManualResetEventSlim();
        _messages.Subscribe(Observer.Create<WebSocketMessage>(_ => release.Wait(Timeout)));
        var sut = CreateSut(capacity: 2, mode: ReceiveBufferFullMode.DropOldest);

        for (int i = 0; i < 10; i++)
        {
            await sut.AddAsync(Text(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), CancellationToken.None);
            await sut.OnReadPendingAsync(CancellationToken.None);
        }

        release.Set();
        await sut.WhenDelivered().WaitAsync(Timeout);

        Assert.NotEmpty(Dropped);
        Assert.All(Dropped, drop => Assert.Equal(DropReason.ReceiveBufferFull, drop.Reason));
        Assert.Equal(10, Delivered.Count + Dropped.Count);
        Assert.Equal("9", Delivered[^1]);
    }

    [Fact]
    public async Task Wait_WhenTheSessionEndsWhileWaitingForRoom_ReportsTheMessage()
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        _messages.Subscribe(Observer.Create<WebSocketMessage>(_ =>
        {
            entered.Set();
            release.Wait(Timeout);
        }));
        var sut = CreateSut(capacity: 1);
        using var sessionEnded = new CancellationTokenSource();

        // The first is taken by the (blocked) observer, the second fills the buffer, the third has to wait.
        await sut.AddAsync(Text("1"), CancellationToken.None);
        await sut.OnReadPendingAsync(CancellationToken.None);
        Assert.True(entered.Wait(Timeout)); // "1" has left the buffer
        await sut.AddAsync(Text("2"), CancellationToken.None);
        await sut.AddAsync(Text("third"), CancellationToken.None);
        var flush = sut.OnReadPendingAsync(sessionEnded.Token).AsTask();
        await sessionEnded.CancelAsync();
        await flush.WaitAsync(Timeout);

        Assert.Contains(("third".Length, DropReason.ReceiveBufferFull), Dropped);
        release.Set();
        await sut.WhenDelivered().WaitAsync(Timeout);
        Assert.Equal(3, Delivered.Count + Dropped.Count);
    }

    [Fact]
    public async Task Complete_DeliversWhatIsBuffered_ThenCompletesMessages_AndReportsLaterArrivals()
    {
        var sut = CreateSut();
        await sut.AddAsync(Text("a"), CancellationToken.None);
        await sut.OnReadPendingAsync(CancellationToken.None);

        sut.Complete();
        await _completed.Task.WaitAsync(Timeout);
        await sut.Completion.WaitAsync(Timeout);
        await sut.AddAsync(Text("late"), CancellationToken.None);
        await sut.OnReadPendingAsync(CancellationToken.None);

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
