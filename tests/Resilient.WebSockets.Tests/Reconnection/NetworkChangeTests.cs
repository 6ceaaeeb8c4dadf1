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
    private readonly InMemoryConnector _heartbeatConnector = new(); // its server ends read what the client sends

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

    [Fact]
    public async Task AddressChanged_WhileConnected_TheHeartbeatChecksTheLinkAtOnce_AndASilentLinkEndsWithinTheShortDeadline()
    {
        var sut = CreateHeartbeatSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await _heartbeatConnector.AcceptAsync();

        _network.RaiseAddressChanged();

        Assert.Equal("ping", await server.ReceiveTextAsync()); // now, not after the 60 s interval
        await _time.AdvanceWhenWaitingAsync(Resilient.WebSockets.Connection.ConnectionSupervisor.NetworkCheckTimeout);
        await probe.WaitForDisconnectsAsync(1);
        var ended = probe.Disconnects[0];
        Assert.Equal(DisconnectReason.HeartbeatTimeout, ended.Reason);
        Assert.Contains("sent when the network changed", ended.Exception!.Message, StringComparison.Ordinal);
        server.Kill();
        await sut.DisposeAsync();
    }

    [Fact]
    public async Task AddressChanged_TheLinkAnswers_TheSessionLivesOn()
    {
        var sut = CreateHeartbeatSut(publishReplies: true);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await _heartbeatConnector.AcceptAsync();

        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(60)); // the first interval's wait, cut short below
        _network.RaiseAddressChanged();
        Assert.Equal("ping", await server.ReceiveTextAsync());
        await server.SendTextAsync("pong");
        await probe.WaitForMessagesAsync(1);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(60)); // the next interval's wait: the reply was taken, the schedule goes on

        Assert.Equal("ping", await server.ReceiveTextAsync());
        Assert.Empty(probe.Disconnects);
        Assert.True(sut.IsConnected);
        server.Kill();
        await sut.DisposeAsync();
    }

    [Fact]
    public async Task AddressChanged_WatchOff_NothingIsChecked()
    {
        var sut = CreateHeartbeatSut(watch: false);
        await sut.StartAsync();
        var server = await _heartbeatConnector.AcceptAsync();

        _network.RaiseAddressChanged();
        await sut.SendAsync("marker");

        Assert.Equal("marker", await server.ReceiveTextAsync()); // no ping went before it
        server.Kill();
        await sut.DisposeAsync();
    }

    private ReconnectingWebSocket CreateHeartbeatSut(bool watch = true, bool publishReplies = false) => TestClients.Create(_heartbeatConnector, _time, o =>
    {
        o.WatchNetworkChanges = watch;
        o.NetworkEvents = _network;
        o.Heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromSeconds(60), Timeout = TimeSpan.FromSeconds(30), PublishReplies = publishReplies };
    });

    private sealed class FakeNetworkEvents : INetworkEvents
    {
        private readonly List<Action> _available = [];
        private readonly List<Action> _addressChanged = [];

        public int Subscribers
        {
            get
            {
                lock (_available)
                {
                    return _available.Count;
                }
            }
        }

        public IDisposable OnAvailable(Action callback) => Add(_available, callback);

        public IDisposable OnAddressChanged(Action callback) => Add(_addressChanged, callback);

        /// <summary>Calls every subscriber on a thread of its own, as the OS's reports come.</summary>
        public void RaiseAvailable() => Raise(_available);

        public void RaiseAddressChanged() => Raise(_addressChanged);

        private static Remove Add(List<Action> callbacks, Action callback)
        {
            lock (callbacks)
            {
                callbacks.Add(callback);
            }

            return new Remove(() =>
            {
                lock (callbacks)
                {
                    callbacks.Remove(callback);
                }
            });
        }

        private static void Raise(List<Action> list)
        {
            Action[] callbacks;
            lock (list)
            {
                callbacks = [.. list];
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
