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

    private sealed class RecordingTarget : IPumpTarget
    {
        public List<object> Values { get; } = [];

        public void Deliver(object value) => Values.Add(value);
    }
}
