using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Internal;

public class BroadcastTests
{
    private readonly List<Exception> _observerErrors = [];

    private Broadcast<int> CreateSut(bool replay = false) =>
        new(_observerErrors.Add, serialize: true, replayLatest: replay, initial: -1);

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
    public void Subscribe_WithReplay_GetsTheLatestValueFirst()
    {
        var sut = CreateSut(replay: true);
        sut.Publish(7);
        var seen = new List<int>();

        using var subscription = sut.Subscribe(new Recorder<int>(seen.Add));
        sut.Publish(8);

        Assert.Equal([7, 8], seen);
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
        sut.Publish(1);

        Assert.Equal(2, completed);
    }
}
