using System.Net;
using System.Net.WebSockets;
using Moq;
using Polly;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests;

/// <summary>The client's behaviour with no network: an in-memory connector and a fake clock, no sleeps.</summary>
public class ReconnectingWebSocketTests
{
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null) =>
        TestClients.Create(_connector, _time, configure);

    private static Func<int, CancellationToken, Task<Exception?>> FailFirst(int failures, Func<Exception>? error = null) =>
        (attempt, _) => Task.FromResult(attempt <= failures ? (error ?? (() => new WebSocketException("refused (test)")))() : null);

    [Fact]
    public async Task StartAsync_FailsTwice_RetriesWithGrowingDelaysThenConnects()
    {
        _connector.Script = FailFirst(2);
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(2));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(3, _connector.Attempts);
        Assert.Equal(
            [ConnectionState.NotStarted, ConnectionState.Connecting, ConnectionState.Reconnecting, ConnectionState.Connecting,
             ConnectionState.Reconnecting, ConnectionState.Connecting, ConnectionState.Connected],
            probe.StateSequence);
        Assert.All(probe.States.Where(s => s.Current == ConnectionState.Reconnecting), s => Assert.IsType<WebSocketException>(s.Exception));
        var connected = Assert.Single(probe.Connects);
        Assert.Equal(3, connected.Attempt);
        Assert.False(connected.IsReconnect);
        Assert.Empty(probe.Disconnects);
    }

    [Fact]
    public async Task StartAsync_MaxAttemptsReached_ThrowsTheLastErrorAndStops()
    {
        int attempt = 0;
        _connector.Script = (_, _) => Task.FromResult<Exception?>(new WebSocketException($"refused #{++attempt}"));
        using var sut = CreateSut(o => o.Reconnect.MaxAttempts = 3);
        using var probe = new ClientProbe(sut);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<WebSocketException>(() => start.WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Equal("refused #3", error.Message);
        Assert.Equal(3, _connector.Attempts);
        Assert.Equal(ConnectionState.Stopped, sut.State);
        Assert.Same(error, probe.States[^1].Exception);
        Assert.True(sut.RunCompletion!.IsCompleted);
    }

    [Fact]
    public async Task StartAsync_Cancelled_LeavesTheClientStoppedWithNothingRunning()
    {
        _connector.Script = FailFirst(int.MaxValue);
        using var sut = CreateSut();
        using var cancel = new CancellationTokenSource();

        var start = sut.StartAsync(cancel.Token);
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(ConnectionState.Stopped, sut.State);
        Assert.True(sut.RunCompletion!.IsCompleted);
        Assert.Equal(0, _time.AliveTimers);
        Assert.Equal(1, _connector.Attempts);
    }

    [Fact]
    public async Task StartAsync_AttemptHangs_TimesOutAfterConnectTimeoutAndRetries()
    {
        var hanging = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connector.Script = async (attempt, token) =>
        {
            if (attempt == 1)
            {
                hanging.SetResult();
                await Task.Delay(Timeout.Infinite, token);
            }

            return null;
        };
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);

        var start = sut.StartAsync();
        await hanging.Task.WaitAsync(ClientProbe.DefaultTimeout); // the timer exists before the attempt reaches the connector
        await _time.AdvanceWhenWaitingAsync(TestClients.ConnectTimeout);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        var failed = probe.States.Single(s => s.Current == ConnectionState.Reconnecting);
        var timeout = Assert.IsType<TimeoutException>(failed.Exception);
        Assert.Contains("7.0 s", timeout.Message);
    }

    [Fact]
    public async Task StartAsync_Handshake401_StopsWithoutRetrying()
    {
        _connector.Script = FailFirst(int.MaxValue, () => new WebSocketHandshakeException(HttpStatusCode.Unauthorized, null));
        using var sut = CreateSut();

        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Equal(HttpStatusCode.Unauthorized, error.HttpStatusCode);
        Assert.Equal("The server refused the WebSocket handshake with HTTP status 401 (Unauthorized).", error.Message);
        Assert.Equal(1, _connector.Attempts);
    }

    [Fact]
    public async Task StartAsync_AlreadyStarted_Throws()
    {
        using var sut = CreateSut();
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sut.StartAsync());

        Assert.Equal("The client is already started (state 'Connected'). Call StopAsync before starting it again.", error.Message);
    }

    [Fact]
    public async Task ReconnectAsync_NotStarted_Throws()
    {
        using var sut = CreateSut();

        var error = Assert.Throws<InvalidOperationException>(() => { _ = sut.ReconnectAsync(); });

        Assert.Equal("The client is not running (state 'NotStarted'). Call StartAsync first.", error.Message);
    }

    [Fact]
    public async Task Session_LostAfterShortUptime_NextDelayKeepsGrowing()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        // Flapping: every session dies at once. Delays must grow 1 s, 2 s, 4 s rather than restart at 1 s.
        foreach (var delay in new[] { 1, 2, 4 })
        {
            int connects = probe.Connects.Count;
            (await _connector.AcceptAsync()).Kill();
            await probe.WaitForDisconnectsAsync(connects);
            await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(delay));
            await probe.WaitForConnectsAsync(connects + 1);
        }

        Assert.All(probe.Disconnects, d => Assert.Equal(DisconnectReason.ConnectionLost, d.Reason));
        Assert.Equal(TimeSpan.FromSeconds(4), probe.Connects[^1].Downtime);
    }

    [Fact]
    public async Task Session_LostAfterMinUptime_BackoffStartsAgainFromTheInitialDelay()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        (await _connector.AcceptAsync()).Kill();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await probe.WaitForConnectsAsync(2);
        _time.Advance(TimeSpan.FromSeconds(10));
        (await _connector.AcceptAsync()).Kill();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await probe.WaitForConnectsAsync(3);

        Assert.Equal(TimeSpan.FromSeconds(1), probe.Connects[2].Downtime);
        Assert.True(probe.Connects[2].IsReconnect);
        Assert.Equal(1, probe.Connects[2].Attempt);
    }

    [Fact]
    public async Task Events_ConnectedIsAlwaysPublishedBeforeTheDisconnectedOfItsSession()
    {
        using var sut = CreateSut();
        var events = new List<string>();
        using var connected = sut.Connected.Subscribe(new Recorder<ConnectedInfo>(i => { lock (events) { events.Add("connected"); } }));
        using var disconnected = sut.Disconnected.Subscribe(new Recorder<DisconnectedInfo>(i => { lock (events) { events.Add("disconnected"); } }));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        (await _connector.AcceptAsync()).Kill();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await probe.WaitForConnectsAsync(2);

        Assert.Equal(["connected", "disconnected", "connected"], events);
    }

    [Fact]
    public async Task SendAsync_WhileReconnecting_DeliversAfterReconnectAfterTheHooksMessages()
    {
        using var sut = CreateSut(o => o.OnConnected = (context, token) => context.SendAsync("auth", token));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var first = await _connector.AcceptAsync();
        Assert.Equal("auth", await first.ReceiveTextAsync());

        first.Kill();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);
        var sends = Enumerable.Range(0, 3).Select(i => sut.SendAsync($"queued {i}").AsTask()).ToList();
        Assert.Equal(3, sut.PendingSendCount);
        Assert.All(sends, s => Assert.False(s.IsCompleted));

        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        var second = await _connector.AcceptAsync();
        Assert.Equal("auth", await second.ReceiveTextAsync());
        Assert.Equal("queued 0", await second.ReceiveTextAsync());
        Assert.Equal("queued 1", await second.ReceiveTextAsync());
        Assert.Equal("queued 2", await second.ReceiveTextAsync());
        await Task.WhenAll(sends).WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(0, sut.PendingSendCount);
    }

    [Fact]
    public async Task SendAsync_WriteFailsWhenTheLinkDrops_TheMessageGoesOutFirstOnTheNextSession()
    {
        var broken = BrokenSocket();
        int calls = 0;
        var connector = new Mock<IWebSocketConnector>();
        connector.Setup(c => c.ConnectAsync(It.IsAny<Uri>(), It.IsAny<CancellationToken>()))
            .Returns((Uri uri, CancellationToken token) => ++calls == 1 ? ValueTask.FromResult(broken.Object) : _connector.ConnectAsync(uri, token));
        using var sut = CreateSut(o => o.Connector = connector.Object);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        var send = sut.SendAsync("important").AsTask();
        await probe.WaitForDisconnectsAsync(1);
        Assert.False(send.IsCompleted);
        Assert.True(sut.TryEnqueue("after"));
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        var server = await _connector.AcceptAsync();

        Assert.Equal("important", await server.ReceiveTextAsync());
        Assert.Equal("after", await server.ReceiveTextAsync());
        await send.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(DisconnectReason.ConnectionLost, probe.Disconnects[0].Reason);
        Assert.IsType<IOException>(probe.Disconnects[0].Exception);
    }

    [Fact]
    public async Task OnConnected_Throws_AttemptFailsAndIsRetriedWithNoConnectedOrDisconnected()
    {
        int calls = 0;
        using var sut = CreateSut(o => o.OnConnected = (_, _) =>
            ++calls == 1 ? ValueTask.FromException(new InvalidOperationException("subscribe failed")) : ValueTask.CompletedTask);
        using var probe = new ClientProbe(sut);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(2, calls);
        Assert.Equal(2, Assert.Single(probe.Connects).Attempt);
        Assert.Empty(probe.Disconnects);
        Assert.Equal("subscribe failed", probe.States.Single(s => s.Current == ConnectionState.Reconnecting).Exception!.Message);
    }

    [Fact]
    public async Task ConnectedContext_UsedAfterTheHookReturned_Throws()
    {
        ConnectedContext? kept = null;
        using var sut = CreateSut(o => o.OnConnected = (context, _) =>
        {
            kept = context;
            return ValueTask.CompletedTask;
        });
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => kept!.SendAsync("late").AsTask());

        Assert.Equal("This ConnectedContext belongs to a session whose OnConnected hook has returned. Send through the ReconnectingWebSocket instead.", error.Message);
    }

    [Fact]
    public async Task Messages_AnObserverThrows_OthersStillReceiveAndTheLoopGoesOn()
    {
        using var sut = CreateSut();
        var received = new List<string>();
        int thrown = 0;
        using var bad = sut.Messages.Subscribe(new Recorder<WebSocketMessage>(_ =>
        {
            Interlocked.Increment(ref thrown);
            throw new InvalidOperationException("observer bug");
        }));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.SendTextAsync("one");
        await server.SendTextAsync("two");
        await probe.WaitForMessagesAsync(2);

        Assert.Equal(["one", "two"], probe.Texts);
        Assert.Equal(2, thrown);
        Assert.Single(probe.Connects);
        Assert.True(sut.IsConnected);
    }

    [Fact]
    public async Task Messages_FragmentedMessage_IsPublishedWholeOnce()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.Socket.SendAsync("hel"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await server.Socket.SendAsync("lo "u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await server.Socket.SendAsync("world"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await server.SendTextAsync("next");
        await probe.WaitForMessagesAsync(2);

        Assert.Equal(["hello world", "next"], probe.Texts);
    }

    [Fact]
    public async Task Messages_OverMaxMessageSize_ClosesWith1009AndReconnects()
    {
        using var sut = CreateSut(o => o.MaxMessageSize = 1000);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.Socket.SendAsync(new byte[600], WebSocketMessageType.Binary, false, CancellationToken.None);
        await server.Socket.SendAsync(new byte[600], WebSocketMessageType.Binary, true, CancellationToken.None);
        Assert.Null(await server.ReceiveTextAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, server.Socket.CloseStatus);
        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, null, CancellationToken.None);
        await probe.WaitForDisconnectsAsync(1);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await probe.WaitForConnectsAsync(2);

        var ended = probe.Disconnects[0];
        Assert.Equal(DisconnectReason.MessageTooLarge, ended.Reason);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ended.CloseStatus);
        Assert.Empty(probe.Messages);

        // Not delivered, so reported, like every other message that is not delivered.
        var dropped = Assert.Single(probe.Drops);
        Assert.Equal(new DroppedMessage(MessageDirection.Incoming, WebSocketMessageType.Binary, 1001, DropReason.MessageTooLarge), dropped); // read stops one byte past the limit
    }

    [Fact]
    public async Task Pipeline_AppPipelineAndAServerThatClosesEverySessionAtOnce_StillWaitsTheBackoffAfterEachLoss()
    {
        var retryAtOnce = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new Polly.Retry.RetryStrategyOptions { Delay = TimeSpan.FromMilliseconds(10), BackoffType = Polly.DelayBackoffType.Constant })
            .Build();
        using var sut = CreateSut(o => o.Reconnect.Pipeline = retryAtOnce);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        // A planned restart (1012) gets the short delay once; closing every session at once is flapping, and the backoff grows.
        foreach (var delay in new[] { 1, 1, 2 })
        {
            int connects = probe.Connects.Count;
            var server = await _connector.AcceptAsync();
            await server.Socket.CloseOutputAsync((WebSocketCloseStatus)1012, "restart", CancellationToken.None);
            await probe.WaitForDisconnectsAsync(connects);
            await _time.WaitForTimerAsync(TimeSpan.FromSeconds(delay));
            Assert.Equal(connects, _connector.Attempts); // nothing before the delay is up
            _time.Advance(TimeSpan.FromSeconds(delay));
            await probe.WaitForConnectsAsync(connects + 1);
        }
    }

    [Fact]
    public async Task Pipeline_AppPipeline_RetriesFailedAttemptsWithItsOwnDelays()
    {
        _connector.Script = FailFirst(2);
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new Polly.Retry.RetryStrategyOptions { Delay = TimeSpan.FromSeconds(5), BackoffType = Polly.DelayBackoffType.Constant, MaxRetryAttempts = 5 })
            .Build();
        using var sut = CreateSut(o => o.Reconnect.Pipeline = pipeline);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(5));
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(5));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(3, _connector.Attempts);
    }

    [Fact]
    public async Task Reconnect_Disabled_MakesOneAttemptAndStopsWhenTheSessionIsLost()
    {
        _connector.Script = FailFirst(1);
        using var sut = CreateSut(o => o.Reconnect.Enabled = false);

        await Assert.ThrowsAsync<WebSocketException>(() => sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(1, _connector.Attempts);

        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        (await _connector.AcceptAsync()).Kill();
        await probe.WaitForStateAsync(ConnectionState.Stopped, occurrences: 2);
        Assert.Equal(2, _connector.Attempts);
        Assert.Equal(DisconnectReason.ConnectionLost, probe.States[^1].Reason);
    }

    [Fact]
    public async Task SendAsync_LongLivedToken_DoesNotKeepADisposedClientAlive()
    {
        using var appLifetime = new CancellationTokenSource();
        var client = await SendManyAndDisposeAsync(appLifetime.Token);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(client.IsAlive, "a registration left on the app's token still roots the client");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task<WeakReference> SendManyAndDisposeAsync(CancellationToken appToken)
    {
        var sut = CreateSut();
        await sut.StartAsync(CancellationToken.None).WaitAsync(ClientProbe.DefaultTimeout, CancellationToken.None);
        var server = await _connector.AcceptAsync();
        var sends = Enumerable.Range(0, 200).Select(i => sut.SendAsync($"m{i}", appToken).AsTask()).ToList();
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"m{i}", await server.ReceiveTextAsync());
        }

        await Task.WhenAll(sends).WaitAsync(ClientProbe.DefaultTimeout, CancellationToken.None);
        sut.Dispose();
        await sut.RunCompletion!.WaitAsync(ClientProbe.DefaultTimeout, CancellationToken.None);
        return new WeakReference(sut);
    }

    [Fact]
    public async Task Messages_OversizedAndTheServerNeverAnswersTheClose_AbortsAfterTheCloseTimeout()
    {
        using var sut = CreateSut(o => o.MaxMessageSize = 10);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.Socket.SendAsync(new byte[11], WebSocketMessageType.Binary, true, CancellationToken.None);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(3));
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(DisconnectReason.MessageTooLarge, probe.Disconnects[0].Reason);
    }

    [Fact]
    public async Task Client_ServerClosesWithStatus_ReportsTheServersCodeAndAnswersTheClose()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, "banned", CancellationToken.None);
        Assert.Null(await server.ReceiveTextAsync());
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(new DisconnectedInfo(DisconnectReason.ClosedByServer, WebSocketCloseStatus.PolicyViolation, "banned", null), probe.Disconnects[0]);
        Assert.Equal(WebSocketState.Closed, server.Socket.State);
    }

    [Fact]
    public async Task ClearPendingSends_FaultsEveryQueuedSendAndReportsEachAsDropped()
    {
        _connector.Script = FailFirst(int.MaxValue);
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        var sends = new[] { sut.SendAsync("a").AsTask(), sut.SendAsync(new byte[] { 1, 2 }).AsTask() };
        Assert.True(sut.TryEnqueue("c"));

        int cleared = sut.ClearPendingSends();

        Assert.Equal(3, cleared);
        Assert.Equal(0, sut.PendingSendCount);
        foreach (var send in sends)
        {
            var error = await Assert.ThrowsAsync<MessageDroppedException>(() => send);
            Assert.Equal(DropReason.Cleared, error.Reason);
            Assert.Equal("The message was not sent: ClearPendingSends removed it from the send queue.", error.Message);
        }

        await probe.WaitForDropsAsync(3); // delivered through the pump, after ClearPendingSends returned
        Assert.Equal(
            [new DroppedMessage(MessageDirection.Outgoing, WebSocketMessageType.Text, 1, DropReason.Cleared),
             new DroppedMessage(MessageDirection.Outgoing, WebSocketMessageType.Binary, 2, DropReason.Cleared),
             new DroppedMessage(MessageDirection.Outgoing, WebSocketMessageType.Text, 1, DropReason.Cleared)],
            probe.Drops);
    }

    [Fact]
    public async Task SendAsync_CancelledWhileQueued_IsWithdrawnAndNeverSent()
    {
        using var sut = CreateSut();
        using var cancel = new CancellationTokenSource();
        var withdrawn = sut.SendAsync("withdrawn", cancel.Token).AsTask();
        Assert.True(sut.TryEnqueue("kept"));

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);
        Assert.Equal(1, sut.PendingSendCount);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        Assert.Equal("kept", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task SendAsync_QueueFull_WaitsForRoomAndTryEnqueueRefuses()
    {
        using var sut = CreateSut(o => o.SendQueue.Capacity = 2);
        using var probe = new ClientProbe(sut);
        Assert.True(sut.TryEnqueue("1"));
        Assert.True(sut.TryEnqueue("2"));

        Assert.False(sut.TryEnqueue("refused"));
        var waiting = sut.SendAsync("3").AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(2, sut.PendingSendCount); // a send waiting for room is not accepted yet
        await probe.WaitForDropsAsync(1);
        Assert.Equal(DropReason.QueueFull, Assert.Single(probe.Drops).Reason); // the refused TryEnqueue

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        Assert.Equal("1", await server.ReceiveTextAsync());
        Assert.Equal("2", await server.ReceiveTextAsync());
        Assert.Equal("3", await server.ReceiveTextAsync());
        await waiting.WaitAsync(ClientProbe.DefaultTimeout);
    }

    [Fact]
    public async Task Dispose_DuringBackoff_FaultsQueuedSendsCompletesStreamsAndStopsEveryTimer()
    {
        _connector.Script = FailFirst(int.MaxValue);
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        var start = sut.StartAsync();
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        var send = sut.SendAsync("never").AsTask();

        sut.Dispose();

        var error = await Assert.ThrowsAsync<MessageDroppedException>(() => send);
        Assert.Equal(DropReason.Disposed, error.Reason);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(ClientProbe.DefaultTimeout));
        await sut.RunCompletion!.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(0, _time.AliveTimers);
        // Messages completes at once (nothing is behind); StateChanges when the event pump has delivered what came before.
        await probe.WaitUntilAsync(p => p.MessagesCompleted && p.StatesCompleted, "every stream to complete");
        Assert.Equal(DropReason.Disposed, Assert.Single(probe.Drops).Reason);
        Assert.Equal(ConnectionState.Stopped, sut.State);
        Assert.Equal(1, _connector.Attempts);
    }

    [Fact]
    public async Task StateChanges_NewSubscriber_FirstGetsTheCurrentState()
    {
        using var sut = CreateSut();
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        using var late = new ClientProbe(sut);
        await late.WaitUntilAsync(p => p.States.Count > 0, "the replay");

        Assert.Equal(ConnectionState.Connected, Assert.Single(late.States).Current);
    }

    [Fact]
    public async Task StopAsync_Connected_ClosesWithTheGivenStatusAndDoesNotReconnect()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        var serverSaw = server.ReceiveTextAsync();

        var stop = sut.StopAsync(WebSocketCloseStatus.EndpointUnavailable, "bye");
        Assert.Null(await serverSaw);
        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "bye", CancellationToken.None);
        await stop.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, server.Socket.CloseStatus);
        Assert.Equal("bye", server.Socket.CloseStatusDescription);
        Assert.Equal([ConnectionState.Stopping, ConnectionState.Stopped], probe.StateSequence.TakeLast(2));
        Assert.Equal(1, _connector.Attempts);
    }

    [Fact]
    public async Task ReconnectAsync_WhileWaitingAfterALostSession_AttemptsAtOnce()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        (await _connector.AcceptAsync()).Kill();
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(1));

        await sut.ReconnectAsync().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(2, probe.Connects.Count);
        Assert.Equal(TimeSpan.Zero, probe.Connects[1].Downtime);
        Assert.Equal(1, _time.AliveTimers); // the new session's receive watchdog; the backoff delay is gone
    }

    [Fact]
    public async Task DisposeAsync_Connected_WritesTheQueueThenClosesWith1000AndCompletesStreams()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        var seen = Task.Run(async () =>
        {
            var texts = new List<string>();
            while (await server.ReceiveTextAsync() is { } text)
            {
                texts.Add(text);
            }

            await server.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return texts;
        });
        Assert.True(sut.TryEnqueue("last words"));

        await sut.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(["last words"], await seen.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, server.Socket.CloseStatus);
        Assert.Equal("client disposed", server.Socket.CloseStatusDescription);
        Assert.Equal(DisconnectReason.Disposed, Assert.Single(probe.Disconnects).Reason);
        Assert.True(probe.MessagesCompleted);
        Assert.Empty(probe.Drops);
        Assert.Equal(0, _time.AliveTimers);
    }

    [Fact]
    public async Task SendAsync_WhileDisconnectedFail_RefusesAtOnceAndDropsWhatWasQueuedWhenTheLinkIsLost()
    {
        using var sut = CreateSut(o => o.SendQueue.WhileDisconnected = WhileDisconnectedMode.Fail);
        using var probe = new ClientProbe(sut);

        var refused = await Assert.ThrowsAsync<MessageDroppedException>(() => sut.SendAsync("too early").AsTask());
        Assert.Equal(DropReason.NotConnected, refused.Reason);
        Assert.False(sut.TryEnqueue("too early"));

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        server.HoldClientWrites(); // its write cannot finish before the link is lost
        var queued = sut.SendAsync("in the queue").AsTask();
        server.Kill();
        await probe.WaitForDisconnectsAsync(1);

        var lost = await Assert.ThrowsAsync<MessageDroppedException>(() => queued.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(DropReason.Disconnected, lost.Reason);
        Assert.Equal(0, sut.PendingSendCount);
        await probe.WaitForDropsAsync(3); // events reach observers through the pump, after the task faulted
        Assert.Equal([DropReason.NotConnected, DropReason.NotConnected, DropReason.Disconnected], probe.Drops.Select(d => d.Reason));
    }

    [Fact]
    public async Task StopAsync_FlushOnStopOff_DropsWhatIsQueuedInsteadOfSendingIt()
    {
        _connector.Script = FailFirst(int.MaxValue);
        using var sut = CreateSut(o => o.SendQueue.FlushOnStop = false);
        using var probe = new ClientProbe(sut);
        var start = sut.StartAsync();
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        var send = sut.SendAsync("never").AsTask();

        await sut.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(DropReason.Stopped, (await Assert.ThrowsAsync<MessageDroppedException>(() => send)).Reason);
        await probe.WaitForDropsAsync(1);
        Assert.Equal(DropReason.Stopped, Assert.Single(probe.Drops).Reason);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
    }

    [Fact]
    public async Task Messages_ObserverIsSlow_TheReceiveLoopKeepsReadingAndAnswersTheServersClose()
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        using var sut = CreateSut();
        using var slow = TestClients.SubscribeSlowObserver(sut, entered, release);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.SendTextAsync("takes a while");
        Assert.True(entered.Wait(ClientProbe.DefaultTimeout));
        _time.AdvancePastHandOver();
        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        // The close is answered while the observer is still busy: the receive loop kept reading.
        Assert.Null(await server.ReceiveTextAsync());
        Assert.Empty(probe.Disconnects);
        release.Set();
        await probe.WaitForDisconnectsAsync(1);
        Assert.Equal(DisconnectReason.ClosedByServer, probe.Disconnects[0].Reason);
        Assert.Single(probe.Messages);
    }

    [Fact]
    public async Task Disconnected_ObserversAreBehind_IsPublishedAfterTheLastMessageOfItsSession()
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        using var sut = CreateSut();
        var order = new List<string>();
        using var slow = TestClients.SubscribeSlowObserver(sut, entered, release);
        using var messages = sut.Messages.Subscribe(new Recorder<WebSocketMessage>(m => { lock (order) { order.Add(m.Text); } }));
        using var disconnects = sut.Disconnected.Subscribe(new Recorder<DisconnectedInfo>(d => { lock (order) { order.Add($"disconnected: {d.Reason}"); } }));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.SendTextAsync("first");
        Assert.True(entered.Wait(ClientProbe.DefaultTimeout));
        _time.AdvancePastHandOver();
        await server.SendTextAsync("second");
        await server.SendTextAsync("third");
        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Null(await server.ReceiveTextAsync()); // the client read all three and answered the close

        // The session is over (State moves at once; its event waits behind the messages like every later event).
        Assert.True(SpinWait.SpinUntil(() => sut.State == ConnectionState.Reconnecting, ClientProbe.DefaultTimeout));
        release.Set();
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(["first", "second", "third", "disconnected: ClosedByServer"], order);
    }

    private static Mock<WebSocket> BrokenSocket()
    {
        var aborted = new TaskCompletionSource<ValueWebSocketReceiveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var socket = new Mock<WebSocket>();
        socket.SetupGet(s => s.State).Returns(WebSocketState.Open);
        socket.Setup(s => s.ReceiveAsync(It.IsAny<Memory<byte>>(), It.IsAny<CancellationToken>()))
            .Returns(() => new ValueTask<ValueWebSocketReceiveResult>(aborted.Task));
        socket.Setup(s => s.SendAsync(It.IsAny<ReadOnlyMemory<byte>>(), It.IsAny<WebSocketMessageType>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns(() => ValueTask.FromException(new IOException("broken pipe (test)")));
        socket.Setup(s => s.Abort()).Callback(() => aborted.TrySetException(new WebSocketException(WebSocketError.InvalidState, "aborted")));
        return socket;
    }
}
