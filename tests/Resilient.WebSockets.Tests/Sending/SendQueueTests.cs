using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Tests.Sending;

public class SendQueueTests
{
    private readonly List<(string Text, DropReason Reason)> _dropped = [];

    private SendQueue CreateSut(int capacity = 10) =>
        new(capacity, (message, reason) => _dropped.Add((Encoding.UTF8.GetString(message.Data.Span), reason)));

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
}
