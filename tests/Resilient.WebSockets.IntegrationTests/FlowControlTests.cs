using Resilient.WebSockets.IntegrationTests.Infrastructure;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>A million messages into a slow server: the queue never passes its capacity, memory stays bounded, and
/// every message is either written or reported.</summary>
public class FlowControlTests
{
    private const int Total = 1_000_000;
    private const int Capacity = 1_000;

    /// <summary>Beyond the queue's capacity, one batch may be in flight (written together, completed once the write
    /// succeeds; README: at most 128 messages), or one message written directly on its sender's thread.</summary>
    private const int InFlight = 128 + 1;

    /// <summary>The stated bound: growth of the live managed heap (measured after a full collection, so garbage not yet
    /// collected does not count; the GC's budget for that differs by runtime and machine) while a million messages go
    /// through a 1 000-message queue. An unbounded queue would hold well over 100 MiB here.</summary>
    private const long MemoryBound = 16L * 1024 * 1024;

    /// <summary>How often the live heap is measured; each measurement is a full collection.</summary>
    private const int MemorySampleEvery = 50_000;

    private static long LiveHeapGrowth(long baseline) => GC.GetTotalMemory(forceFullCollection: true) - baseline;

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(90);

    private static ReconnectingWebSocketOptions Options(TestServer server, SendQueueFullMode mode) => new()
    {
        Uri = server.Url("/sink?pauseEvery=2000"),
        SendQueue = { Capacity = Capacity, FullMode = mode },
    };

    [Fact]
    public async Task SendAsync_WaitMode_MillionMessagesToASlowReader_AllArriveWithTheQueueAndMemoryBounded()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(Options(server, SendQueueFullMode.Wait));
        await client.StartAsync();
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peakMemory = 0;
        int peakQueue = 0;

        const int Batch = 10_000;
        var payload = new byte[32];
        var sends = new Task[Batch];
        for (int sent = 0; sent < Total; sent += Batch)
        {
            for (int i = 0; i < Batch; i++)
            {
                sends[i] = client.SendAsync(payload).AsTask();
                peakQueue = Math.Max(peakQueue, client.PendingSendCount);
                if ((sent + i) % MemorySampleEvery == MemorySampleEvery - 1)
                {
                    // The peak is while messages (and the sends waiting for room) are queued, not after they drained.
                    peakMemory = Math.Max(peakMemory, LiveHeapGrowth(baseline));
                }
            }

            await Task.WhenAll(sends).WaitAsync(Budget);
        }

        await server.Log.WaitUntilAsync(l => l.Sunk >= Total, Budget, "a million messages");
        Assert.Equal(Total, server.Log.Sunk);
        // Zero is possible: while the socket takes every write at once, each send is written on its caller's thread.
        Assert.InRange(peakQueue, 0, Capacity + InFlight);
        Assert.True(peakMemory < MemoryBound, $"managed memory grew by {peakMemory / 1024 / 1024} MiB");
    }

    [Fact]
    public async Task TryEnqueue_DropOldestMode_MillionMessagesToASlowReader_EveryMessageIsWrittenOrReported()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(Options(server, SendQueueFullMode.DropOldest));
        long dropped = 0;
        // Every message is written (the server counts it) or reported (the client's Dropped stream counts it); either
        // count may be the last to move, so both check.
        var accounted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void CheckAccounted()
        {
            if (server.Log.Sunk + Interlocked.Read(ref dropped) >= Total)
            {
                accounted.TrySetResult();
            }
        }

        // The observer is slower than the producer (as most real ones are: a log line, a counter with a label): without
        // a bound on the reports waiting for it, they pile up in memory (about 40 MiB on a slow machine).
        using var drops = client.Dropped.Subscribe(new Testing.Recorder<DroppedMessage>(d =>
        {
            Thread.SpinWait(100);
            Assert.Equal(DropReason.QueueFull, d.Reason);
            Interlocked.Increment(ref dropped);
            CheckAccounted();
        }));
        server.Log.Changed += CheckAccounted;
        await client.StartAsync();
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peakMemory = 0;
        int peakQueue = 0;

        var payload = new byte[32];
        for (int i = 0; i < Total; i++)
        {
            Assert.True(client.TryEnqueue(payload));
            if (i % 1000 == 0)
            {
                peakQueue = Math.Max(peakQueue, client.PendingSendCount);
            }

            if (i % MemorySampleEvery == MemorySampleEvery - 1)
            {
                peakMemory = Math.Max(peakMemory, LiveHeapGrowth(baseline));
            }
        }

        CheckAccounted();
        try
        {
            await accounted.Task.WaitAsync(Budget);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Not every message was written or dropped within {Budget}. Written {server.Log.Sunk}, reported dropped {Interlocked.Read(ref dropped)}, pending {client.PendingSendCount}.", ex);
        }
        finally
        {
            server.Log.Changed -= CheckAccounted;
        }

        Assert.Equal(Total, server.Log.Sunk + Interlocked.Read(ref dropped));
        Assert.InRange(peakQueue, 1, Capacity + InFlight);
        Assert.True(peakMemory < MemoryBound, $"managed memory grew by {peakMemory / 1024 / 1024} MiB");
    }
}
