using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Sending;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Sending;

public class SendLoopTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly SendQueue _queue = new(new SendQueueOptions { Capacity = 100 }, new TestTimeProvider(), (_, _) => { });
    private readonly List<Exception> _failures = [];

    private SendLoop Start(ScriptedWriter writer)
    {
        var loop = new SendLoop(_queue, outbox: null, writer, ex => { lock (_failures) { _failures.Add(ex); } }, metrics: null, NullLogger.Instance, "test");
        loop.Start();
        return loop;
    }

    private Task Enqueue(string text)
    {
        var completion = new PendingSend();
        Assert.True(_queue.TryEnqueue(new OutgoingMessage(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, null, completion)));
        return completion.Task;
    }

    private List<string> Remaining()
    {
        var texts = new List<string>();
        while (_queue.TryTake(out var message))
        {
            texts.Add(Encoding.UTF8.GetString(message.Data.Span));
        }

        return texts;
    }

    [Fact]
    public async Task Stop_AgainAfterTheLoopEnded_DoesNotThrowInside()
    {
        // A session's end stops its send loop from several places; each late stop used to throw (and catch) an
        // ObjectDisposedException, a cost on every close.
        var sut = Start(new ScriptedWriter(canHold: false));
        sut.Stop(flush: false);
        await sut.Completion.WaitAsync(Timeout);
        int thread = Environment.CurrentManagedThreadId;
        int thrownHere = 0;
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                Interlocked.Increment(ref thrownHere);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            sut.Stop(flush: false);
            sut.Stop(flush: true);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Equal(0, thrownHere);
    }

    [Fact]
    public async Task WithoutHolding_WritesEachMessageInOrder_AndCompletesItsSend()
    {
        var writer = new ScriptedWriter(canHold: false);
        var loop = Start(writer);

        var sends = new[] { Enqueue("a"), Enqueue("b"), Enqueue("c") };
        await Task.WhenAll(sends).WaitAsync(Timeout);

        Assert.Equal(["a", "b", "c"], writer.Written);
        Assert.Equal(0, writer.Flushes);
        loop.Stop(flush: false);
        await loop.Completion.WaitAsync(Timeout);
        Assert.Empty(_failures);
    }

    [Fact]
    public async Task Holding_CompletesTheSendsOnlyAfterTheBatchIsFlushed()
    {
        var writer = new ScriptedWriter(canHold: true) { FlushGate = new TaskCompletionSource() };
        var loop = Start(writer);

        var sends = new[] { Enqueue("a"), Enqueue("b") };
        await writer.FlushStarted.Task.WaitAsync(Timeout);

        Assert.All(sends, send => Assert.False(send.IsCompleted));
        writer.FlushGate.SetResult();
        await Task.WhenAll(sends).WaitAsync(Timeout);
        Assert.Equal(["a", "b"], writer.Written);
        loop.Stop(flush: false);
        await loop.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Holding_FlushesWhenTheBatchIsFull_BeforeTheQueueRunsEmpty()
    {
        var writer = new ScriptedWriter(canHold: true) { BatchLimit = 2 };
        for (int i = 0; i < 5; i++)
        {
            _ = Enqueue(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var loop = Start(writer);
        await writer.WaitForWrittenAsync(5).WaitAsync(Timeout);
        await writer.WaitForFlushesAsync(3).WaitAsync(Timeout);

        // Two full batches of two, then the last message when the queue ran empty.
        Assert.Equal([2, 4, 5], writer.WrittenAtFlush);
        loop.Stop(flush: false);
        await loop.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task FailedFlush_PutsTheWholeBatchBackInOrder_AndEndsTheLoop()
    {
        var writer = new ScriptedWriter(canHold: true) { FailFlush = new IOException("link down") };
        _ = Enqueue("a");
        _ = Enqueue("b");
        _ = Enqueue("c");

        var loop = Start(writer);
        await loop.Completion.WaitAsync(Timeout);

        var failure = Assert.Single(_failures);
        Assert.Equal("link down", failure.Message);
        Assert.Equal(["a", "b", "c"], Remaining());
    }

    [Fact]
    public async Task FailedWrite_PutsTheMessageBack_AheadOfTheRest()
    {
        var writer = new ScriptedWriter(canHold: false) { FailWriteOf = "b" };
        var first = Enqueue("a");
        var second = Enqueue("b");
        _ = Enqueue("c");

        var loop = Start(writer);
        await loop.Completion.WaitAsync(Timeout);

        await first.WaitAsync(Timeout);
        Assert.False(second.IsCompleted);
        Assert.Single(_failures);
        Assert.Equal(["b", "c"], Remaining());
    }

    [Fact]
    public async Task StopWithFlush_WritesEverythingQueued_ThenEnds()
    {
        var writer = new ScriptedWriter(canHold: true) { WriteGate = new TaskCompletionSource() };
        var loop = Start(writer);
        var sends = new[] { Enqueue("a"), Enqueue("b"), Enqueue("c") };
        await writer.WriteStarted.Task.WaitAsync(Timeout);

        loop.Stop(flush: true);
        writer.WriteGate.SetResult();

        await loop.Completion.WaitAsync(Timeout);
        await Task.WhenAll(sends).WaitAsync(Timeout);
        Assert.Equal(["a", "b", "c"], writer.Written);
        Assert.Empty(Remaining());
    }

    [Fact]
    public async Task StopWithoutFlush_EndsAfterTheWriteUnderWay_AndLeavesTheRestQueued()
    {
        var writer = new ScriptedWriter(canHold: false) { WriteGate = new TaskCompletionSource() };
        var loop = Start(writer);
        var first = Enqueue("a");
        _ = Enqueue("b");
        await writer.WriteStarted.Task.WaitAsync(Timeout);

        loop.Stop(flush: false);
        writer.WriteGate.SetResult();

        await loop.Completion.WaitAsync(Timeout);
        await first.WaitAsync(Timeout);
        Assert.Equal(["a"], writer.Written);
        Assert.Equal(["b"], Remaining());
    }

    [Fact]
    public async Task StopWhileIdle_EndsTheLoop()
    {
        var loop = Start(new ScriptedWriter(canHold: true));

        loop.Stop(flush: true);

        await loop.Completion.WaitAsync(Timeout);
        Assert.Empty(_failures);
    }

    /// <summary>An <see cref="IFrameWriter"/> that records what it was given and can be held or made to fail.</summary>
    private sealed class ScriptedWriter(bool canHold) : IFrameWriter
    {
        private readonly List<string> _written = [];
        private readonly List<int> _writtenAtFlush = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int BatchLimit { get; init; } = int.MaxValue;

        public TaskCompletionSource? WriteGate { get; init; }

        public TaskCompletionSource? FlushGate { get; init; }

        public Exception? FailFlush { get; init; }

        public string? FailWriteOf { get; init; }

        public TaskCompletionSource WriteStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FlushStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool CanHold => canHold;

        public List<string> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public List<int> WrittenAtFlush
        {
            get
            {
                lock (_written)
                {
                    return [.. _writtenAtFlush];
                }
            }
        }

        public int Flushes => WrittenAtFlush.Count;

        public bool BatchFull(int heldMessages) => heldMessages >= BatchLimit;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool hold)
        {
            Assert.Equal(canHold, hold);
            WriteStarted.TrySetResult();
            if (WriteGate is not null)
            {
                await WriteGate.Task.ConfigureAwait(false);
            }

            string text = Encoding.UTF8.GetString(data.Span);
            if (text == FailWriteOf)
            {
                throw new IOException("write failed");
            }

            lock (_written)
            {
                _written.Add(text);
            }

            Pulse();
        }

        public async ValueTask FlushAsync()
        {
            FlushStarted.TrySetResult();
            if (FlushGate is not null)
            {
                await FlushGate.Task.ConfigureAwait(false);
            }

            if (FailFlush is not null)
            {
                throw FailFlush;
            }

            lock (_written)
            {
                _writtenAtFlush.Add(_written.Count);
            }

            Pulse();
        }

        public Task WaitForWrittenAsync(int count) => WaitUntil(() => Written.Count >= count);

        public Task WaitForFlushesAsync(int count) => WaitUntil(() => Flushes >= count);

        private void Pulse() => Interlocked.Exchange(ref _changed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        private async Task WaitUntil(Func<bool> condition)
        {
            while (true)
            {
                var changed = Volatile.Read(ref _changed);
                if (condition())
                {
                    return;
                }

                await changed.Task.ConfigureAwait(false);
            }
        }
    }
}
