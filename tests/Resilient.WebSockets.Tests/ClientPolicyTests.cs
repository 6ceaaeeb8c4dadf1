using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests;

/// <summary>The send and receive policies, each through the public API of a client on the in-memory connector.</summary>
public class ClientPolicyTests
{
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null) =>
        TestClients.Create(_connector, _time, configure);

    /// <summary>Connects; the server sends "1", and "2" to "5" while an observer is still inside "1".</summary>
    private async Task SendFiveWhileTheFirstIsObservedAsync(ReconnectingWebSocket sut, ManualResetEventSlim entered)
    {
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        await server.SendTextAsync("1");
        Assert.True(entered.Wait(ClientProbe.DefaultTimeout));
        _time.AdvancePastHandOver(); // with a buffer, reading moves on; inline, the observer keeps the loop
        foreach (var text in new[] { "2", "3", "4", "5" })
        {
            await server.SendTextAsync(text);
        }
    }

    private static async Task<DropReason> DropReasonOf(ValueTask send) =>
        (await Assert.ThrowsAsync<MessageDroppedException>(() => send.AsTask().WaitAsync(ClientProbe.DefaultTimeout))).Reason;

    [Fact]
    public async Task TimeToLive_AMessageThatWaitsLongerThanItsTimeToLive_IsReportedExpiredAndNeverSent()
    {
        using var sut = CreateSut(o => o.SendQueue.TimeToLive = TimeSpan.FromSeconds(4));
        using var probe = new ClientProbe(sut);
        Assert.True(sut.TryEnqueue("stale"));
        var awaited = sut.SendAsync("stale too");

        _time.Advance(TimeSpan.FromSeconds(5)); // through an outage: reported while still disconnected

        Assert.Equal(DropReason.Expired, await DropReasonOf(awaited));
        await probe.WaitForDropsAsync(2);
        Assert.Equal([("stale".Length, DropReason.Expired), ("stale too".Length, DropReason.Expired)], probe.Drops.Select(d => (d.Length, d.Reason)));
        Assert.Equal(0, sut.PendingSendCount);

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        await sut.SendAsync("fresh").AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal("fresh", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task TimeToLive_AMessageWithinItsTimeToLive_IsSent()
    {
        using var sut = CreateSut(o => o.SendQueue.TimeToLive = TimeSpan.FromSeconds(4));
        Assert.True(sut.TryEnqueue("in time"));
        _time.Advance(TimeSpan.FromSeconds(3));

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        Assert.Equal("in time", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task DropNewest_AFullQueue_DropsTheMostRecentlyQueuedMessageForTheNewOne()
    {
        using var sut = CreateSut(o =>
        {
            o.SendQueue.Capacity = 2;
            o.SendQueue.FullMode = SendQueueFullMode.DropNewest;
        });
        using var probe = new ClientProbe(sut);
        Assert.True(sut.TryEnqueue("1"));
        var second = sut.SendAsync("2");
        Assert.True(sut.TryEnqueue("3"));

        Assert.Equal(DropReason.QueueFull, await DropReasonOf(second));
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        Assert.Equal("1", await server.ReceiveTextAsync());
        Assert.Equal("3", await server.ReceiveTextAsync());
        await probe.WaitForDropsAsync(1);
        Assert.Equal(new DroppedMessage(MessageDirection.Outgoing, WebSocketMessageType.Text, 1, DropReason.QueueFull), Assert.Single(probe.Drops));
    }

    [Fact]
    public async Task Fail_AFullQueue_RefusesTheNewMessageAtTheCall_AndReportsIt()
    {
        using var sut = CreateSut(o =>
        {
            o.SendQueue.Capacity = 1;
            o.SendQueue.FullMode = SendQueueFullMode.Fail;
        });
        using var probe = new ClientProbe(sut);
        Assert.True(sut.TryEnqueue("kept"));

        var refused = sut.SendAsync("refused");
        Assert.True(refused.IsCompleted); // at the call, no waiting
        Assert.Equal(DropReason.QueueFull, await DropReasonOf(refused));
        Assert.False(sut.TryEnqueue("refused too"));

        await probe.WaitForDropsAsync(2);
        Assert.Equal(["refused".Length, "refused too".Length], probe.Drops.Select(d => d.Length));
        Assert.Equal(1, sut.PendingSendCount);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal("kept", await (await _connector.AcceptAsync()).ReceiveTextAsync());
    }

    [Fact]
    public async Task DeliverInline_ASlowObserverHoldsTheReceiveLoop_SoNothingIsDroppedByTheBuffer()
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        using var sut = CreateSut(o =>
        {
            o.ReceiveBuffer.DeliverInline = true;
            o.ReceiveBuffer.Capacity = 1; // with a buffer, this would drop
            o.ReceiveBuffer.FullMode = ReceiveBufferFullMode.DropOldest;
        });
        using var slow = TestClients.SubscribeSlowObserver(sut, entered, release);
        using var probe = new ClientProbe(sut);
        await SendFiveWhileTheFirstIsObservedAsync(sut, entered);

        release.Set();
        await probe.WaitForMessagesAsync(5);

        Assert.Equal(["1", "2", "3", "4", "5"], probe.Texts);
        Assert.Empty(probe.Drops);
    }

    /// <summary>Capacity 2, "1" held by a slow observer, "2" to "5" arrive: two are dropped, which ones by the mode.</summary>
    [Theory]
    [InlineData(ReceiveBufferFullMode.DropOldest, new[] { "1", "4", "5" })]
    [InlineData(ReceiveBufferFullMode.DropNewest, new[] { "1", "2", "5" })]
    public async Task ReceiveBuffer_Full_DropsAsItsModeSays_AndReportsEachDroppedIncomingMessage(ReceiveBufferFullMode mode, string[] delivered)
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        using var sut = CreateSut(o =>
        {
            o.ReceiveBuffer.Capacity = 2;
            o.ReceiveBuffer.FullMode = mode;
        });
        using var slow = TestClients.SubscribeSlowObserver(sut, entered, release);
        using var probe = new ClientProbe(sut);
        await SendFiveWhileTheFirstIsObservedAsync(sut, entered);

        await probe.WaitForDropsAsync(2);
        release.Set();
        await probe.WaitForMessagesAsync(3);

        Assert.Equal(delivered, probe.Texts);
        Assert.Equal(2, probe.Drops.Count);
        Assert.All(probe.Drops, d => Assert.Equal(new DroppedMessage(MessageDirection.Incoming, WebSocketMessageType.Text, 1, DropReason.ReceiveBufferFull), d));
    }

    [Fact]
    public async Task StopAsync_TokenCancelledDuringTheFlush_AbortsAndKeepsWhatWasNotWrittenForTheNextStart()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        server.HoldClientWrites(); // the server stops reading: the first write waits
        Assert.True(sut.TryEnqueue("a"));
        Assert.True(sut.TryEnqueue("b"));
        using var cancel = new CancellationTokenSource();

        var stop = sut.StopAsync(cancellationToken: cancel.Token);
        Assert.False(stop.IsCompleted); // flushing, and the write cannot finish
        await cancel.CancelAsync();
        await stop.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(ConnectionState.Stopped, sut.State);
        Assert.Equal(2, sut.PendingSendCount);
        Assert.Empty(probe.Drops);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var next = await _connector.AcceptAsync();
        Assert.Equal("a", await next.ReceiveTextAsync());
        Assert.Equal("b", await next.ReceiveTextAsync());
    }

    [Fact]
    public async Task ConnectedContext_SendAsyncBytes_GoesOutFirst_AsBinary()
    {
        using var sut = CreateSut(o => o.OnConnected = (context, ct) => context.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, ct));
        Assert.True(sut.TryEnqueue("queued"));

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        var first = await server.ReceiveAsync();
        Assert.NotNull(first);
        Assert.Equal(WebSocketMessageType.Binary, first.Value.Type);
        Assert.Equal(new byte[] { 1, 2, 3 }, first.Value.Data);
        Assert.Equal("queued", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task LoggerFactory_Supplied_GetsTheLifecycleLines_UnderTheClientsName()
    {
        using var loggers = new CapturingLoggerFactory();
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(attempt == 1 ? new WebSocketException("refused (test)") : null);
        var options = new ReconnectingWebSocketOptions
        {
            Uri = new Uri("ws://example.test/socket?token=SECRET"),
            Name = "prices",
            Connector = _connector,
            TimeProvider = _time,
            Reconnect = { UseJitter = false, InitialDelay = TimeSpan.FromSeconds(1) },
        };
        using var sut = new ReconnectingWebSocket(options, loggers);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        var lines = loggers.Lines;
        Assert.All(lines, line => Assert.Equal(typeof(ReconnectingWebSocket).FullName, line.Category));
        Assert.All(lines, line => Assert.Contains("prices", line.Message, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Level == LogLevel.Warning && line.Message.Contains("refused (test)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Level == LogLevel.Debug && line.Exception is WebSocketException);
        Assert.Contains(lines, line => line.Level == LogLevel.Information && line.Message.Contains("ws://example.test/socket", StringComparison.Ordinal));
        Assert.All(lines, line => Assert.DoesNotContain("SECRET", line.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task SendAsync_OnAnIdleLiveSession_IsWrittenOnTheCallersThread_AndCompletesAtOnce()
    {
        using var sut = CreateSut();
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        var send = sut.SendAsync("direct");

        Assert.True(send.IsCompletedSuccessfully); // no hop to the send loop: the in-memory write completes synchronously
        Assert.Equal("direct", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task SendAsync_BehindQueuedMessages_KeepsTheOrder()
    {
        using var sut = CreateSut();
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        server.HoldClientWrites(); // the send loop is inside the write of "1"
        Assert.True(sut.TryEnqueue("1"));
        Assert.True(sut.TryEnqueue("2"));

        var third = sut.SendAsync("3");
        Assert.False(third.IsCompleted);
        Assert.Equal(3, sut.PendingSendCount);
        server.ReleaseClientWrites();

        await third.AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        foreach (var expected in new[] { "1", "2", "3" })
        {
            Assert.Equal(expected, await server.ReceiveTextAsync());
        }
    }

    [Fact]
    public async Task SendAsync_WrittenDirectlyWhenTheLinkDrops_GoesOutFirstOnTheNextSession_AndIsCountedMeanwhile()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var first = await _connector.AcceptAsync();
        first.HoldClientWrites();

        var send = sut.SendAsync("in flight");
        Assert.Equal(1, sut.PendingSendCount);
        Assert.True(sut.TryEnqueue("after it"));
        first.Kill();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        var second = await _connector.AcceptAsync();

        Assert.Equal("in flight", await second.ReceiveTextAsync());
        Assert.Equal("after it", await second.ReceiveTextAsync());
        await send.AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(0, sut.PendingSendCount);
    }

    [Fact]
    public async Task ServerCloses_WhileAWriteIsStuck_TheSessionEndsWithinTheCloseTimeout()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        server.HoldClientWrites(); // the server no longer reads: our write waits, as on a full TCP window
        var stuck = sut.SendAsync("stuck");

        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(3)); // CloseTimeout

        await probe.WaitForDisconnectsAsync(1);
        Assert.Equal(DisconnectReason.ClosedByServer, probe.Disconnects[0].Reason);
        Assert.False(stuck.IsCompleted); // it waits, first, for the next session
        Assert.Equal(1, sut.PendingSendCount);
    }
}
