using Resilient.WebSockets.Internal;

namespace Resilient.WebSockets.Tests.Internal;

public class EventPumpTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly EventPump _pump = new();
    private readonly List<string> _seen = [];

    private void Record(string value)
    {
        lock (_seen)
        {
            _seen.Add(value);
        }
    }

    private List<string> Seen
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    [Fact]
    public async Task DeliversInPostOrder_FromManyThreads_OneAtATime()
    {
        int running = 0;
        int overlaps = 0;
        var posters = Enumerable.Range(0, 4).Select(thread => Task.Run(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                int n = i;
                _pump.Post(() =>
                {
                    if (Interlocked.Increment(ref running) > 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    Record($"{thread}:{n}");
                    Interlocked.Decrement(ref running);
                });
            }
        })).ToArray();
        await Task.WhenAll(posters).WaitAsync(Timeout);

        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(0, overlaps);
        Assert.Equal(2000, Seen.Count);
        for (int thread = 0; thread < 4; thread++)
        {
            var mine = Seen.Where(s => s.StartsWith($"{thread}:", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(0, 500).Select(i => $"{thread}:{i}"), mine);
        }
    }

    [Fact]
    public async Task APostFromInsideADelivery_RunsAfterIt_NotInsideIt()
    {
        _pump.Post(() =>
        {
            _pump.Post(() => Record("inner"));
            Record("outer");
        });

        await _pump.WhenDelivered().WaitAsync(Timeout);
        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["outer", "inner"], Seen);
    }

    [Fact]
    public async Task ABarrier_HoldsBackEverythingPostedAfterIt_UntilItsTaskCompletes()
    {
        var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pump.Post(() =>
        {
            Record("before");
            before.SetResult();
        });
        _pump.PostBarrier(barrier.Task);
        _pump.Post(() => Record("after"));
        var delivered = _pump.WhenDelivered();

        await before.Task.WaitAsync(Timeout);
        Assert.False(delivered.IsCompleted);
        Assert.Equal(["before"], Seen);

        barrier.SetResult();
        await delivered.WaitAsync(Timeout);
        Assert.Equal(["before", "after"], Seen);
    }

    [Fact]
    public async Task ACompletedBarrier_HoldsNothingBack()
    {
        _pump.PostBarrier(Task.CompletedTask);
        _pump.Post(() => Record("after"));

        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["after"], Seen);
    }

    [Fact]
    public async Task DrainHere_FromInsideADelivery_DoesNotReenter()
    {
        _pump.Post(() =>
        {
            _pump.Post(() => Record("inner"));
            _pump.DrainHere();
            Record("outer");
        });

        await _pump.WhenDelivered().WaitAsync(Timeout);
        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["outer", "inner"], Seen);
    }

    [Fact]
    public async Task PostToATarget_PassesTheValue()
    {
        var target = new RecordingTarget();

        _pump.Post(target, "x");
        _pump.Post(target, "y");
        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["x", "y"], target.Values);
    }

    [Fact]
    public async Task WaitForRoom_WhileObserversAreFarBehind_HoldsTheProducerSoTheBacklogStaysBounded()
    {
        const int Total = 5 * EventPump.MaxPending;
        long peak = 0;

        // Observers that are slow but moving: the pump must not take a late start of its drain (a loaded machine's
        // thread pool) for a stall and give up, which is what the default of about 100 ms would do here.
        var pump = new EventPump(stallRounds: 30_000);
        using var producerDone = new ManualResetEventSlim();

        // The observers are behind until the producer is made to wait (without the bound: until it has posted everything).
        pump.Post(() => SpinWait.SpinUntil(() => pump.Waiting > 0 || producerDone.IsSet, Timeout));
        var producer = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < Total; i++)
            {
                pump.WaitForRoom();
                pump.Post(() => peak = Math.Max(peak, pump.Pending));
            }

            producerDone.Set();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await producer.WaitAsync(Timeout);
        await pump.WhenDelivered().WaitAsync(Timeout);

        Assert.True(pump.WaitCount > 0, "the producer never waited");
        Assert.InRange(peak, 1, EventPump.MaxPending + 1);
    }

    [Fact]
    public async Task WaitForRoom_ForAnObserverThatMakesNoProgress_GivesUpOnceAndDoesNotHangTheProducer()
    {
        const int Total = 3 * EventPump.MaxPending;
        int delivered = 0;
        using var producerDone = new ManualResetEventSlim();

        // Stuck until the producer has finished: an observer waiting on something the producing thread holds.
        _pump.Post(() => producerDone.Wait(Timeout));
        var producer = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < Total; i++)
            {
                _pump.WaitForRoom();
                _pump.Post(() => delivered++);
            }

            producerDone.Set();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await producer.WaitAsync(Timeout);
        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.True(producerDone.IsSet);
        Assert.Equal(Total, delivered);
        Assert.Equal(1, _pump.WaitCount); // it waited once, gave up, and did not wait again while nothing moved
    }

    [Fact]
    public async Task WaitForRoom_OnTheThreadDeliveringEvents_ReturnsAtOnce()
    {
        _pump.Post(() =>
        {
            for (int i = 0; i < 2 * EventPump.MaxPending; i++)
            {
                _pump.Post(() => { });
            }

            _pump.WaitForRoom(); // an observer that sends: waiting for itself would hang
            Record("returned");
        });

        await _pump.WhenDelivered().WaitAsync(Timeout);

        Assert.Equal(["returned"], Seen);
        Assert.Equal(0, _pump.WaitCount);
    }

    [Fact]
    public async Task WaitForRoom_WhileABarrierHoldsThePumpBack_ReturnsAtOnce()
    {
        var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pump.PostBarrier(barrier.Task);
        for (int i = 0; i < 2 * EventPump.MaxPending; i++)
        {
            _pump.Post(() => { });
        }

        Assert.True(SpinWait.SpinUntil(() => _pump.IsParked, Timeout));

        // The barrier waits for Messages' observers; one of them may be the thread sending here.
        _pump.WaitForRoom();

        Assert.Equal(0, _pump.WaitCount);
        barrier.SetResult();
        await _pump.WhenDelivered().WaitAsync(Timeout);
        Assert.Equal(0, _pump.Pending);
    }

    private sealed class RecordingTarget : IPumpTarget
    {
        public List<object> Values { get; } = [];

        public void Deliver(object value) => Values.Add(value);
    }
}
