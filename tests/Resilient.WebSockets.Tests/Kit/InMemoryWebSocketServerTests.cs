using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets.Tests.Kit;

/// <summary>The testing kit's server, clock and probe against the real client: each fault as the client sees it.</summary>
public sealed class InMemoryWebSocketServerTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(1);

    private readonly TestTimeProvider _clock = new();
    private readonly InMemoryWebSocketServer _server;
    private readonly List<ReconnectingWebSocket> _clients = [];

    public InMemoryWebSocketServerTests() => _server = new InMemoryWebSocketServer(_clock);

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose() => _server.DisposeAsync().AsTask().GetAwaiter().GetResult(); // a second dispose does nothing more

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var client in _clients)
        {
            await client.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        }
    }

    private static CancellationToken Timeout => new CancellationTokenSource(ClientProbe.DefaultTimeout).Token;

    private ReconnectingWebSocket CreateClient(Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var options = new ReconnectingWebSocketOptions
        {
            Uri = new Uri("wss://feed.example/prices"),
            Connector = _server.Connector,
            TimeProvider = _clock,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            Reconnect = { UseJitter = false, InitialDelay = Backoff, MaxDelay = TimeSpan.FromSeconds(4) },
        };
        configure?.Invoke(options);
        var client = new ReconnectingWebSocket(options);
        _clients.Add(client);
        return client;
    }

    [Fact]
    public async Task Messages_FlowBothWays_AsText_AndBinary()
    {
        var client = CreateClient();
        using var probe = new ClientProbe(client);
        await client.StartAsync(Timeout);
        var connection = await _server.AcceptAsync(Timeout);

        await client.SendAsync("hello");
        await client.SendAsync(new byte[] { 1, 2, 3 });
        await connection.SendAsync("welcome");
        await connection.SendAsync(new byte[] { 9 }, WebSocketMessageType.Binary);
        await probe.WaitForMessagesAsync(2);

        Assert.Equal("hello", await connection.ReceiveTextAsync(Timeout));
        var binary = await connection.ReceiveAsync(Timeout);
        Assert.Equal(WebSocketMessageType.Binary, binary!.MessageType);
        Assert.Equal(new byte[] { 1, 2, 3 }, binary.Data.ToArray());
        Assert.Equal(["welcome"], probe.Texts);
        Assert.Equal(new byte[] { 9 }, probe.Messages[1].Data.ToArray());
        Assert.Equal((1, new Uri("wss://feed.example/prices")), (connection.Attempt, connection.Uri));
    }

    [Fact]
    public async Task RefuseNext_503IsRetried_401IsNot()
    {
        _server.RefuseNext(HttpStatusCode.ServiceUnavailable);
        var client = CreateClient();
        using var probe = new ClientProbe(client);
        var start = client.StartAsync(Timeout);
        Assert.Equal(Backoff, await _clock.AdvanceToNextAttemptAsync(probe));
        await start;
        Assert.Equal(2, (await _server.AcceptAsync(Timeout)).Attempt);

        _server.RefuseNext(HttpStatusCode.Unauthorized);
        var refused = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => CreateClient().StartAsync(Timeout));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.HttpStatusCode);
        Assert.Equal(3, _server.Attempts);
    }

    [Fact]
    public async Task FailNext_TheAttemptFailsWithTheError_ThenTheNextConnects()
    {
        _server.FailNext(new WebSocketException("Unable to connect to the remote server"), times: 2);
        var client = CreateClient();
        using var probe = new ClientProbe(client);

        var start = client.StartAsync(Timeout);
        await _clock.AdvanceToNextAttemptAsync(probe);
        await _clock.AdvanceToNextAttemptAsync(probe);
        await start;

        Assert.Equal(3, (await _server.AcceptAsync(Timeout)).Attempt);
        Assert.Contains("Unable to connect to the remote server", probe.States.First(s => s.Current == ConnectionState.Reconnecting).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HangNext_EndsAtTheClientsConnectTimeout_OnItsClock()
    {
        _server.HangNext();
        var client = CreateClient();
        using var probe = new ClientProbe(client);

        var start = client.StartAsync(Timeout);
        await _clock.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(5)); // the connect timeout
        await _clock.AdvanceToNextAttemptAsync(probe);
        await start;

        Assert.Equal(2, (await _server.AcceptAsync(Timeout)).Attempt);
        Assert.Equal(DisconnectReason.ConnectFailed, probe.States.First(s => s.Current == ConnectionState.Reconnecting).Reason);
    }

    [Fact]
    public async Task DelayNext_ConnectsOnceTheClockHasMoved()
    {
        _server.DelayNext(TimeSpan.FromSeconds(2));
        var client = CreateClient();

        var start = client.StartAsync(Timeout);
        await _clock.WaitForTimerAsync(TimeSpan.FromSeconds(2));
        Assert.False(start.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(2));
        await start;

        Assert.Equal(ConnectionState.Connected, client.State);
    }

    [Fact]
    public async Task CloseAsync_TheClientReportsTheCodeAndReconnects_AbortIsALostConnection()
    {
        var client = CreateClient();
        using var probe = new ClientProbe(client);
        await client.StartAsync(Timeout);

        await (await _server.AcceptAsync(Timeout)).CloseAsync((WebSocketCloseStatus)1012, "restart");
        await probe.WaitForDisconnectsAsync(1);
        await _clock.AdvanceToNextAttemptAsync(probe);
        (await _server.AcceptAsync(Timeout)).Abort();
        await probe.WaitForDisconnectsAsync(2);

        Assert.Equal((DisconnectReason.ClosedByServer, (WebSocketCloseStatus)1012, "restart"), (probe.Disconnects[0].Reason, probe.Disconnects[0].CloseStatus, probe.Disconnects[0].CloseStatusDescription));
        Assert.Equal(DisconnectReason.ConnectionLost, probe.Disconnects[1].Reason);
    }

    [Fact]
    public async Task TheClientsClose_IsAnswered_AndItsStatusKept()
    {
        var client = CreateClient();
        await client.StartAsync(Timeout);
        var connection = await _server.AcceptAsync(Timeout);

        await client.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Null(await connection.ReceiveAsync(Timeout));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, connection.ClientCloseStatus);
    }

    [Fact]
    public async Task Stall_NothingFlowsAndNothingCloses_UntilTheHeartbeatFindsIt()
    {
        var client = CreateClient(o => o.Heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromSeconds(10), Timeout = TimeSpan.FromSeconds(3), IsReply = m => m.Text == "pong" });
        using var probe = new ClientProbe(client);
        await client.StartAsync(Timeout);
        var connection = await _server.AcceptAsync(Timeout);

        connection.Stall();
        await connection.SendAsync("held");
        await client.SendAsync("also held");
        await _clock.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(10)); // the heartbeat goes out, into the stall
        Assert.Empty(probe.Messages);
        await _clock.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(3)); // no reply within its timeout
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(DisconnectReason.HeartbeatTimeout, probe.Disconnects[0].Reason);
        Assert.Empty(probe.Messages);
    }

    [Fact]
    public async Task Resume_AfterAStall_DeliversEverythingInOrder()
    {
        var client = CreateClient();
        using var probe = new ClientProbe(client);
        await client.StartAsync(Timeout);
        var connection = await _server.AcceptAsync(Timeout);

        connection.Stall();
        await connection.SendAsync("one");
        await connection.SendAsync("two");
        await client.SendAsync("up");
        connection.Resume();
        await probe.WaitForMessagesAsync(2);

        Assert.Equal(["one", "two"], probe.Texts);
        Assert.Equal("up", await connection.ReceiveTextAsync(Timeout));
    }

    [Fact]
    public async Task Latency_PerDirection_RunsOnTheServersClock()
    {
        var client = CreateClient();
        using var probe = new ClientProbe(client);
        await client.StartAsync(Timeout);
        var connection = await _server.AcceptAsync(Timeout);
        connection.LatencyToClient = TimeSpan.FromMilliseconds(300);

        await connection.SendAsync("late");
        await _clock.WaitForTimerAsync(TimeSpan.FromMilliseconds(300));
        Assert.Empty(probe.Messages);
        _clock.Advance(TimeSpan.FromMilliseconds(300));
        await probe.WaitForMessagesAsync(1);
        await client.SendAsync("at once"); // the other direction has none
        Assert.Equal("at once", await connection.ReceiveTextAsync(Timeout));

        Assert.Equal(TimeSpan.FromMilliseconds(300), connection.Latency);
        Assert.Throws<ArgumentOutOfRangeException>(() => connection.LatencyToServer = TimeSpan.FromSeconds(-1));
    }

    [Fact]
    public async Task SendRawAsync_AMalformedFrame_IsAProtocolErrorOfTheClient()
    {
        var client = CreateClient();
        using var probe = new ClientProbe(client);
        await client.StartAsync(Timeout);
        var connection = await _server.AcceptAsync(Timeout);

        await connection.SendRawAsync(new byte[] { 0x81, 0x02, 0xC3, 0x28 }); // a text frame of invalid UTF-8
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(DisconnectReason.ProtocolError, probe.Disconnects[0].Reason);
        Assert.Empty(probe.Messages);
    }

    [Fact]
    public async Task Dispose_EndsAcceptAndLaterAttempts_AndArgumentsAreChecked()
    {
        await using var server = new InMemoryWebSocketServer();

        Assert.Throws<ArgumentOutOfRangeException>(() => server.RefuseNext(HttpStatusCode.SwitchingProtocols));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.HangNext(times: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.DelayNext(TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentNullException>(() => server.FailNext(null!));
        await server.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => server.AcceptAsync().AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => server.Connector.ConnectAsync(new Uri("ws://x/"), CancellationToken.None).AsTask());
    }

    [Fact]
    public void Messages_ForAnAppsOwnObservers_FromTextAndFromBinary()
    {
        Assert.Equal("hi", WebSocketMessage.FromText("hi").Text);
        Assert.Equal(Encoding.UTF8.GetBytes("hi"), WebSocketMessage.FromText("hi").Data.ToArray());
        Assert.Equal(WebSocketMessageType.Binary, WebSocketMessage.FromBinary([1]).MessageType);
    }
}
