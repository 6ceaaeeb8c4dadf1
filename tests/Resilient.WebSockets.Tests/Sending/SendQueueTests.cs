using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Sending;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Sending;

public class SendQueueTests
{
    private readonly List<(string Text, DropReason Reason)> _dropped = [];
    private readonly TestTimeProvider _time = new();

    private SendQueue CreateSut(int capacity = 10, SendQueueFullMode mode = SendQueueFullMode.Wait, TimeSpan? timeToLive = null) =>
        new(new SendQueueOptions { Capacity = capacity, FullMode = mode, TimeToLive = timeToLive }, _time,
            (message, reason) => _dropped.Add((Encoding.UTF8.GetString(message.Data.Span), reason)));

    private static OutgoingMessage Message(string text, PendingSend? completion = null) =>
        new(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, rentedBuffer: null, completion);

    private static List<string> Drain(SendQueue queue)
    {
        var texts = new List<string>();
        while (queue.TryTake(out var message))
        {
            texts.Add(Encoding.UTF8.GetString(message.Data.Span));
            queue.MarkWritten(message);
        }

        return texts;
    }

    [Fact]
    public void TryTake_KeepsTheOrderOfAcceptance()
    {
        var sut = CreateSut();
        foreach (var text in new[] { "a", "b", "c" })
        {
            Assert.True(sut.TryEnqueue(Message(text)));
        }

        Assert.Equal(["a", "b", "c"], Drain(sut));
        Assert.Equal(0, sut.Count);
    }

    [Fact]
    public void TryEnqueue_Full_RefusesWithoutCountingIt()
    {
        var sut = CreateSut(capacity: 2);
        Assert.True(sut.TryEnqueue(Message("a")));
        Assert.True(sut.TryEnqueue(Message("b")));

        Assert.False(sut.TryEnqueue(Message("c")));
        Assert.Equal(2, sut.Count);
    }

    [Fact]
    public void Requeue_FailedWrite_GoesOutBeforeEverythingQueuedAfterIt()
    {
        var sut = CreateSut();
        sut.TryEnqueue(Message("first"));
        sut.TryEnqueue(Message("second"));
        Assert.True(sut.TryTake(out var inFlight));

        sut.Requeue(inFlight);
        sut.TryEnqueue(Message("third"));

        Assert.Equal(["first", "second", "third"], Drain(sut));
    }

    [Fact]
    public async Task Requeue_FailedWrite_CanStillBeCancelledByItsCaller()
    {
        var sut = CreateSut();
        var completion = new PendingSend();
        using var cancel = new CancellationTokenSource();
        await sut.EnqueueAsync(Message("a", completion), cancel.Token);
        Assert.True(sut.TryTake(out var inFlight));
        sut.Requeue(inFlight);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => completion.Task);
        Assert.Equal(0, sut.Count);
        Assert.Empty(Drain(sut));
    }

    [Fact]
    public async Task Clear_DropsEverythingQueuedAndReportsEach()
    {
        var sut = CreateSut();
        var completion = new PendingSend();
        await sut.EnqueueAsync(Message("a", completion), CancellationToken.None);
        sut.TryEnqueue(Message("b"));

        Assert.Equal(2, sut.Clear(DropReason.Cleared));

        Assert.Equal([("a", DropReason.Cleared), ("b", DropReason.Cleared)], _dropped);
        Assert.Equal(DropReason.Cleared, (await Assert.ThrowsAsync<MessageDroppedException>(() => completion.Task)).Reason);
        Assert.Equal(0, sut.Count);
    }

    [Fact]
    public void Close_ThenAFailedWriteComesBack_ItIsDroppedNotKept()
    {
        var sut = CreateSut();
        sut.TryEnqueue(Message("in flight"));
        Assert.True(sut.TryTake(out var inFlight));

        sut.Close(DropReason.Disposed);
        sut.Requeue(inFlight);

        Assert.Equal([("in flight", DropReason.Disposed)], _dropped);
        Assert.False(sut.TryEnqueue(Message("late")));
        Assert.Equal(0, sut.Count);
    }

    [Fact]
    public async Task EnqueueAsync_Full_WaitsForRoom()
    {
        var sut = CreateSut(capacity: 1);
        sut.TryEnqueue(Message("a"));

        var waiting = sut.EnqueueAsync(Message("b"), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.True(sut.TryTake(out var first));
        sut.MarkWritten(first);

        await waiting.WaitAsync(Testing.ClientProbe.DefaultTimeout);
        Assert.Equal(["b"], Drain(sut));
    }

    [Fact]
    public async Task Withdraw_QueuedSendOfAFullQueue_GivesItsRoomToTheWriterWaitingAtOnce()
    {
        // Nothing takes from the queue (an outage): the withdrawn message must not keep its room until a take passes it.
        var sut = CreateSut(capacity: 1);
        using var cancel = new CancellationTokenSource();
        var withdrawn = new PendingSend();
        await sut.EnqueueAsync(Message("withdrawn", withdrawn), cancel.Token);

        var waiting = sut.EnqueueAsync(Message("next", new PendingSend()), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();

        await waiting.WaitAsync(Testing.ClientProbe.DefaultTimeout);
        Assert.True(withdrawn.Task.IsCanceled);
        Assert.Equal(1, sut.Count);
        Assert.False(sut.TryEnqueue(Message("refused")));
        Assert.Equal(["next"], Drain(sut));
    }

    [Fact]
    public async Task Withdraw_ManySendsDuringAnOutage_NeitherFillsTheQueueNorKeepsTheirBuffers()
    {
        var pool = new CountingPool();
        var sut = CreateSut(capacity: 4);
        for (int i = 0; i < 1_000; i++)
        {
            using var cancel = new CancellationTokenSource();
            var send = new PendingSend();
            await sut.EnqueueAsync(new OutgoingMessage(Encoding.UTF8.GetBytes("x"), WebSocketMessageType.Text, pool.Rent(1), send, pool: pool), cancel.Token).AsTask().WaitAsync(Testing.ClientProbe.DefaultTimeout);
            await cancel.CancelAsync();
            Assert.True(send.Task.IsCanceled);
        }

        Assert.Equal(0, sut.Count);
        Assert.True(pool.Outstanding <= 64, $"{pool.Outstanding} buffers of withdrawn sends are still held");
        Assert.True(sut.TryEnqueue(Message("after")));
        Assert.Equal(["after"], Drain(sut));
        Assert.Equal(0, pool.Outstanding);
    }

    private sealed class CountingPool : System.Buffers.ArrayPool<byte>
    {
        public int Outstanding { get; private set; }

        public override byte[] Rent(int minimumLength)
        {
            Outstanding++;
            return new byte[minimumLength];
        }

        public override void Return(byte[] array, bool clearArray = false) => Outstanding--;
    }

    [Fact]
    public async Task EnqueueAsync_CancelledWhileWaitingForRoom_IsNotCounted()
    {
        var sut = CreateSut(capacity: 1);
        sut.TryEnqueue(Message("a"));
        using var cancel = new CancellationTokenSource();

        var waiting = sut.EnqueueAsync(Message("b"), cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, sut.Count);
    }

    [Fact]
    public async Task EnqueueAsync_FullWithDropOldest_EvictsTheOldestAndFaultsItsSend()
    {
        var sut = CreateSut(capacity: 2, mode: SendQueueFullMode.DropOldest);
        var oldest = new PendingSend();
        await sut.EnqueueAsync(Message("a", oldest), CancellationToken.None);
        await sut.EnqueueAsync(Message("b"), CancellationToken.None);

        await sut.EnqueueAsync(Message("c"), CancellationToken.None);

        Assert.Equal([("a", DropReason.QueueFull)], _dropped);
        Assert.Equal(DropReason.QueueFull, (await Assert.ThrowsAsync<MessageDroppedException>(() => oldest.Task)).Reason);
        Assert.Equal(2, sut.Count);
        Assert.Equal(["b", "c"], Drain(sut));
    }

    [Fact]
    public void TryEnqueue_FullWithDropNewest_EvictsTheMostRecentlyQueued()
    {
        var sut = CreateSut(capacity: 2, mode: SendQueueFullMode.DropNewest);
        sut.TryEnqueue(Message("a"));
        sut.TryEnqueue(Message("b"));

        Assert.True(sut.TryEnqueue(Message("c")));

        Assert.Equal([("b", DropReason.QueueFull)], _dropped);
        Assert.Equal(["a", "c"], Drain(sut));
    }

    [Fact]
    public async Task EnqueueAsync_FullWithFail_RefusesTheNewMessageAndReportsIt()
    {
        var sut = CreateSut(capacity: 1, mode: SendQueueFullMode.Fail);
        sut.TryEnqueue(Message("a"));

        var error = await Assert.ThrowsAsync<MessageDroppedException>(() => sut.EnqueueAsync(Message("b"), CancellationToken.None).AsTask());

        Assert.Equal(DropReason.QueueFull, error.Reason);
        Assert.Equal("The message was not sent: the send queue was full.", error.Message);
        Assert.Equal([("b", DropReason.QueueFull)], _dropped);
        Assert.Equal(1, sut.Count);
    }

    [Fact]
    public async Task TryTake_MessageOlderThanItsTimeToLive_IsDroppedNotSent()
    {
        var sut = CreateSut(timeToLive: TimeSpan.FromSeconds(5));
        var stale = new PendingSend();
        await sut.EnqueueAsync(Message("stale", stale), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        sut.TryEnqueue(Message("fresh"));
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(["fresh"], Drain(sut));
        Assert.Equal([("stale", DropReason.Expired)], _dropped);
        Assert.Equal(DropReason.Expired, (await Assert.ThrowsAsync<MessageDroppedException>(() => stale.Task)).Reason);
    }

    [Fact]
    public void SweepExpired_NobodyTaking_ReportsExpiredMessagesWithinAQuarterOfTheirTimeToLive()
    {
        var sut = CreateSut(timeToLive: TimeSpan.FromSeconds(4));
        sut.TryEnqueue(Message("waits through an outage"));

        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.Equal([("waits through an outage", DropReason.Expired)], _dropped);
        Assert.Equal(0, sut.Count);
        sut.Close(DropReason.Disposed);
        Assert.Equal(0, _time.AliveTimers);
    }
}
