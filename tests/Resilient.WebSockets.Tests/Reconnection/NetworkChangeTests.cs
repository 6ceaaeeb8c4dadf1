using System.Net.WebSockets;
using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Reconnection;

/// <summary>The network coming back cuts the backoff short (a fake OS, a fake clock: the clock never moves here).</summary>
public sealed class NetworkChangeTests
{
    private static readonly TimeSpan LongDelay = TimeSpan.FromSeconds(30);

    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new() { AnswerCloses = true }; // so that dispose needs no clock
    private readonly FakeNetworkEvents _network = new();

    private ReconnectingWebSocket CreateSut(bool watch = true) => TestClients.Create(_connector, _time, o =>
    {
        o.Reconnect.InitialDelay = LongDelay;
        o.Reconnect.MaxDelay = LongDelay;
        o.WatchNetworkChanges = watch;
        o.NetworkEvents = _network;
    });

    [Fact]
    public async Task FailedAttempt_NetworkComesBack_TheNextAttemptStartsAtOnce()
    {
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(attempt == 1 ? new WebSocketException("no route (test)") : null);
        await using var sut = CreateSut();

        var start = sut.StartAsync();
        await _time.WaitForTimerAsync(LongDelay); // waiting 30 s for the second attempt
        _network.RaiseAvailable();

        await start.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(2, _connector.Attempts);
    }

    [Fact]
    public async Task LostSession_NetworkComesBack_ReconnectsWithoutWaitingOutTheBackoff()
    {
        await using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        (await _connector.AcceptAsync()).Kill();
        await _time.WaitForTimerAsync(LongDelay);

        _network.RaiseAvailable();

        await probe.WaitForConnectsAsync(2);
        Assert.Equal(2, _connector.Attempts);
    }

    [Fact]
    public async Task WatchOff_NetworkComesBack_TheBackoffRunsItsCourse()
    {
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(attempt == 1 ? new WebSocketException("no route (test)") : null);
        await using var sut = CreateSut(watch: false);

        var start = sut.StartAsync();
        await _time.WaitForTimerAsync(LongDelay);
        _network.RaiseAvailable();

        Assert.Equal(0, _network.Subscribers);
        Assert.False(start.IsCompleted);
        _time.Advance(LongDelay);
        await start.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(2, _connector.Attempts);
    }

    [Fact]
    public async Task Connected_NetworkComesBack_NothingHappensAndTheSubscriptionEndsWithTheRun()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        Assert.Equal(1, _network.Subscribers);

        _network.RaiseAvailable();

        Assert.Single(probe.Connects);
        Assert.True(sut.IsConnected);
        Assert.Equal(1, _connector.Attempts);
        await sut.DisposeAsync();
        Assert.Equal(0, _network.Subscribers);
    }

    private sealed class FakeNetworkEvents : INetworkEvents
    {
        private readonly List<Action> _callbacks = [];

        public int Subscribers
        {
            get
            {
                lock (_callbacks)
                {
                    return _callbacks.Count;
                }
            }
        }

        public IDisposable OnAvailable(Action callback)
        {
            lock (_callbacks)
            {
                _callbacks.Add(callback);
            }

            return new Remove(() =>
            {
                lock (_callbacks)
                {
                    _callbacks.Remove(callback);
                }
            });
        }

        /// <summary>Calls every subscriber on a thread of its own, as the OS's reports come.</summary>
        public void RaiseAvailable()
        {
            Action[] callbacks;
            lock (_callbacks)
            {
                callbacks = [.. _callbacks];
            }

            Task.Run(() =>
            {
                foreach (var callback in callbacks)
                {
                    callback();
                }
            }).Wait(ClientProbe.DefaultTimeout);
        }

        private sealed class Remove(Action remove) : IDisposable
        {
            public void Dispose() => remove();
        }
    }
}
