using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Internal;

public class BroadcastTests
{
    private readonly List<Exception> _observerErrors = [];

    private Broadcast<int> CreateSut() => new(_observerErrors.Add);

    [Fact]
    public void Publish_AnObserverThrows_TheOthersStillGetItAndItStaysSubscribed()
    {
        var sut = CreateSut();
        var before = new List<int>();
        var after = new List<int>();
        int thrown = 0;
        using var a = sut.Subscribe(new Recorder<int>(before.Add));
        using var bad = sut.Subscribe(new Recorder<int>(_ => { thrown++; throw new InvalidOperationException("bug"); }));
        using var b = sut.Subscribe(new Recorder<int>(after.Add));

        sut.Publish(1);
        sut.Publish(2);

        Assert.Equal([1, 2], before);
        Assert.Equal([1, 2], after);
        Assert.Equal(2, thrown);
        Assert.Equal(2, _observerErrors.Count);
    }

    [Fact]
    public void Dispose_Subscription_StopsDelivery()
    {
        var sut = CreateSut();
        var seen = new List<int>();
        var subscription = sut.Subscribe(new Recorder<int>(seen.Add));

        sut.Publish(1);
        subscription.Dispose();
        subscription.Dispose();
        sut.Publish(2);

        Assert.Equal([1], seen);
    }

    [Fact]
    public void Complete_CompletesEveryObserverOnceAndLateSubscribersAtOnce()
    {
        var sut = CreateSut();
        int completed = 0;
        using var early = sut.Subscribe(new Recorder<int>(_ => { }, () => completed++));

        sut.Complete();
        sut.Complete();
        using var late = sut.Subscribe(new Recorder<int>(_ => { }, () => completed++));

        Assert.False(sut.Publish(1));
        Assert.Equal(2, completed);
    }

    [Fact]
    public void Complete_CalledByAnObserverDuringAPublication_CompletesAfterItAndNothingFollows()
    {
        var sut = CreateSut();
        var events = new List<string>();
        using var first = sut.Subscribe(new Recorder<int>(v => { events.Add($"a{v}"); sut.Complete(); }, () => events.Add("a done")));
        using var second = sut.Subscribe(new Recorder<int>(v => events.Add($"b{v}"), () => events.Add("b done")));

        Assert.True(sut.Publish(1));
        Assert.False(sut.Publish(2));

        // The value being published still reaches every observer; the completion comes after it, once each.
        Assert.Equal(["a1", "b1", "a done", "b done"], events);
    }

    [Fact]
    public async Task Complete_FromAnotherThreadDuringAPublication_NeverRunsAlongsideOrBeforeIt()
    {
        var sut = CreateSut();
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var events = new List<string>();
        using var subscription = sut.Subscribe(new Recorder<int>(
            v => { lock (events) { events.Add($"next {v}"); } inside.Set(); release.Wait(ClientProbe.DefaultTimeout); },
            () => { lock (events) { events.Add("completed"); } }));

        var publishing = Task.Run(() => sut.Publish(1));
        Assert.True(inside.Wait(ClientProbe.DefaultTimeout));
        sut.Complete();
        lock (events)
        {
            Assert.Equal(["next 1"], events);
        }

        release.Set();
        Assert.True(await publishing.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.False(sut.Publish(2));
        Assert.Equal(["next 1", "completed"], events);
    }
}
