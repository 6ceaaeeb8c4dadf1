using System.Net.WebSockets;
using Resilient.WebSockets.Health;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Health;

/// <summary>Inactivity timeout, application heartbeat and keep-alive classification, on a fake clock.</summary>
public class DeadPeerDetectionTests
{
    private static readonly TimeSpan Inactivity = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(11);
    private static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(4);

    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions> configure) =>
        TestClients.Create(_connector, _time, configure);

    /// <summary>Proves the session is still alive: a message from the server gets through.</summary>
    private static async Task AssertStillConnectedAsync(ServerEnd server, ClientProbe probe, string marker)
    {
        await server.SendTextAsync(marker);
        await probe.WaitUntilAsync(p => p.Texts.Contains(marker), $"'{marker}' on the live session");
        Assert.Empty(probe.Disconnects);
    }

    [Fact]
    public async Task InactivityTimeout_NothingArrives_EndsTheSessionWithItsReasonAndReconnects()
    {
        using var sut = CreateSut(o => o.InactivityTimeout = Inactivity);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        await _time.AdvanceWhenWaitingAsync(Inactivity);
        await probe.WaitForDisconnectsAsync(1);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await probe.WaitForConnectsAsync(2);

        var ended = probe.Disconnects[0];
        Assert.Equal(DisconnectReason.InactivityTimeout, ended.Reason);
        Assert.Equal("No message arrived for 5.0 s (options.InactivityTimeout); the session was ended.", ended.Exception!.Message);
    }

    [Fact]
    public async Task InactivityTimeout_MessagesKeepArriving_NeverFires()
    {
        using var sut = CreateSut(o => o.InactivityTimeout = Inactivity);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        await _time.WaitForTimerAsync(Inactivity);

        for (int i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            await AssertStillConnectedAsync(server, probe, $"tick {i}");
        }

        _time.Advance(Inactivity);
        await probe.WaitForDisconnectsAsync(1);
        Assert.Equal(DisconnectReason.InactivityTimeout, probe.Disconnects[0].Reason);
    }

    [Fact]
    public async Task Heartbeat_ServerAnswers_RepliesAreConsumedAndTheSessionStays()
    {
        using var sut = CreateSut(o => o.Heartbeat = new HeartbeatOptions { Interval = HeartbeatInterval, Timeout = HeartbeatTimeout });
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        for (int beat = 0; beat < 3; beat++)
        {
            await _time.AdvanceWhenWaitingAsync(HeartbeatInterval);
            Assert.Equal("ping", await server.ReceiveTextAsync());
            await server.SendTextAsync("pong");
            await _time.WaitForTimerAsync(HeartbeatTimeout);
        }

        // The next beat's delay starts only once the reply was taken; then the reply's deadline passes harmlessly.
        await _time.WaitForTimerAsync(HeartbeatInterval);
        _time.Advance(HeartbeatTimeout);
        await AssertStillConnectedAsync(server, probe, "still here");
        Assert.Equal(["still here"], probe.Texts);
    }

    [Fact]
    public async Task Heartbeat_WriteThatCannotFinish_EndsTheSessionWithHeartbeatTimeout()
    {
        // A dead link whose send buffer is full: the heartbeat's write never completes. Its deadline runs anyway.
        using var sut = CreateSut(o => o.Heartbeat = new HeartbeatOptions { Interval = HeartbeatInterval, Timeout = HeartbeatTimeout });
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        server.HoldClientWrites();

        await _time.AdvanceWhenWaitingAsync(HeartbeatInterval);
        await _time.AdvanceWhenWaitingAsync(HeartbeatTimeout);
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(DisconnectReason.HeartbeatTimeout, probe.Disconnects[0].Reason);
    }

    [Fact]
    public async Task Heartbeat_NoReply_EndsTheSessionWithHeartbeatTimeout()
    {
        using var sut = CreateSut(o => o.Heartbeat = new HeartbeatOptions { Interval = HeartbeatInterval, Timeout = HeartbeatTimeout, Message = "hb" });
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await _time.AdvanceWhenWaitingAsync(HeartbeatInterval);
        Assert.Equal("hb", await server.ReceiveTextAsync());
        await _time.AdvanceWhenWaitingAsync(HeartbeatTimeout);
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(DisconnectReason.HeartbeatTimeout, probe.Disconnects[0].Reason);
        Assert.IsType<TimeoutException>(probe.Disconnects[0].Exception);
    }

    [Fact]
    public async Task Heartbeat_PublishRepliesOn_RepliesAlsoReachTheObservers()
    {
        using var sut = CreateSut(o => o.Heartbeat = new HeartbeatOptions { Interval = HeartbeatInterval, Timeout = HeartbeatTimeout, PublishReplies = true });
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await _time.AdvanceWhenWaitingAsync(HeartbeatInterval);
        Assert.Equal("ping", await server.ReceiveTextAsync());
        await server.SendTextAsync("pong");

        await probe.WaitForMessagesAsync(1);
        Assert.Equal(["pong"], probe.Texts);
    }

    [Theory]
    [InlineData(true, DisconnectReason.KeepAliveTimeout)]
    [InlineData(false, DisconnectReason.ConnectionLost)]
    public void Classify_RuntimeAbortedTheSocket_IsAKeepAliveTimeoutOnlyWhenTheRuntimeTimesOutPongs(bool keepAliveTimesOut, DisconnectReason expected)
    {
        var abort = new OperationCanceledException("Aborted", new AggregateException(new WebSocketException(WebSocketError.Faulted, "no pong")));

        Assert.Equal(expected, KeepAlive.Classify(abort, keepAliveTimesOut));
    }

    [Fact]
    public void Classify_ResetAndProtocolErrors_AreTellApart()
    {
        Assert.Equal(DisconnectReason.ConnectionLost, KeepAlive.Classify(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, new IOException()), true));
        Assert.Equal(DisconnectReason.ProtocolError, KeepAlive.Classify(new WebSocketException(WebSocketError.Faulted, "bad frame"), true));
    }
}
