using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Delivery;

/// <summary>
/// Acknowledged delivery through the public API, on the in-memory connector and a fake clock. The test server speaks a
/// tiny protocol: the client's reliable messages are "id|body"; the server answers "ack:id" or "nack:id:detail".
/// </summary>
public sealed class ReliableDeliveryTests : IAsyncLifetime
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(4);

    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();
    private readonly List<ReconnectingWebSocket> _clients = [];
    private readonly List<ServerEnd> _servers = [];

    private static MessageAck? ReadAck(WebSocketMessage message)
    {
        if (message.MessageType != WebSocketMessageType.Text)
        {
            return null;
        }

        var text = message.Text;
        if (text.StartsWith("ack:", StringComparison.Ordinal))
        {
            return MessageAck.Accepted(text[4..]);
        }

        if (text.StartsWith("nack:", StringComparison.Ordinal))
        {
            var parts = text.Split(':', 3);
            return MessageAck.Rejected(parts[1], parts.Length > 2 ? parts[2] : null);
        }

        return null;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Every server end is broken before the clients are disposed, so a failed test fails instead of waiting on a
    /// close handshake that the fake clock never times out.</summary>
    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            server.Kill();
        }

        foreach (var client in _clients)
        {
            await client.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        }
    }

    private ReconnectingWebSocket CreateSut(Action<DeliveryOptions>? delivery = null, Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var client = TestClients.Create(_connector, _time, o =>
        {
            o.Delivery = new DeliveryOptions { ReadAck = ReadAck, AckTimeout = AckTimeout };
            delivery?.Invoke(o.Delivery);
            configure?.Invoke(o);
        });
        _clients.Add(client);
        return client;
    }

    private async Task<ServerEnd> AcceptAsync()
    {
        var server = await _connector.AcceptAsync();
        _servers.Add(server);
        return server;
    }

    [Fact]
    public async Task SendReliable_TheServerAcks_CompletesAndPublishesTheAckOnAcknowledgedOnly()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var send = sut.SendReliableAsync("m1|hello", "m1").AsTask();
        Assert.Equal("m1|hello", await server.ReceiveTextAsync());
        Assert.False(send.IsCompleted);
        Assert.Equal(1, sut.OutboxCount);
        await server.SendTextAsync("ack:m1");
        await server.SendTextAsync("news");

        await send.WaitAsync(ClientProbe.DefaultTimeout);
        await probe.WaitForMessagesAsync(1);
        Assert.Equal(["news"], probe.Texts); // the ack is not a message for the app
        Assert.Equal(0, sut.OutboxCount);
        await probe.WaitForAcksAsync(1);
        Assert.Equal("m1", probe.Acks[0].MessageId);
        Assert.Equal(1, probe.Acks[0].Attempts);
    }

    [Fact]
    public async Task PublishAcks_TheAckIsAlsoAMessage()
    {
        var sut = CreateSut(d => d.PublishAcks = true);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var send = sut.SendReliableAsync("m1|hello", "m1").AsTask();
        await server.ReceiveTextAsync();
        await server.SendTextAsync("ack:m1");

        await send.WaitAsync(ClientProbe.DefaultTimeout);
        await probe.WaitForMessagesAsync(1);
        Assert.Equal(["ack:m1"], probe.Texts);
    }

    [Fact]
    public async Task LostSession_UnacknowledgedMessage_IsWrittenAfterOnConnectedAndBeforeTheQueue()
    {
        var sut = CreateSut(configure: o => o.OnConnected = (context, token) => context.SendAsync("auth", token));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var first = await AcceptAsync();
        Assert.Equal("auth", await first.ReceiveTextAsync());
        var send = sut.SendReliableAsync("m1|hello", "m1").AsTask();
        Assert.Equal("m1|hello", await first.ReceiveTextAsync()); // written; the ack never comes

        first.Kill();
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(1)); // the reconnect delay
        Assert.True(sut.TryEnqueue("plain, queued during the outage"));
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = await AcceptAsync();

        Assert.Equal("auth", await second.ReceiveTextAsync());
        Assert.Equal("m1|hello", await second.ReceiveTextAsync());
        Assert.Equal("plain, queued during the outage", await second.ReceiveTextAsync());
        await second.SendTextAsync("ack:m1");
        await send.WaitAsync(ClientProbe.DefaultTimeout);
        await probe.WaitForAcksAsync(1);
        Assert.Equal(2, probe.Acks[0].Attempts);
    }

    [Fact]
    public async Task AckTimeout_WritesAgainWhileConnected_ThenGivesUpAfterMaxAttempts()
    {
        var sut = CreateSut(d => d.MaxAttempts = 2);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var send = sut.SendReliableAsync("m1|hello", "m1").AsTask();
        Assert.Equal("m1|hello", await server.ReceiveTextAsync());
        await _time.AdvanceWhenWaitingAsync(AckTimeout);
        Assert.Equal("m1|hello", await server.ReceiveTextAsync()); // the second write
        await _time.AdvanceWhenWaitingAsync(AckTimeout);

        var dropped = await Assert.ThrowsAsync<MessageDroppedException>(() => send.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(DropReason.NotAcknowledged, dropped.Reason);
        Assert.Equal("m1", dropped.MessageId);
        Assert.Equal(2, dropped.Attempts);
        Assert.Contains("Delivery.MaxAttempts", dropped.Message, StringComparison.Ordinal);
        await probe.WaitForDropsAsync(1);
        var report = Assert.Single(probe.Drops);
        Assert.Equal((DropReason.NotAcknowledged, "m1", 2, MessageDirection.Outgoing), (report.Reason, report.MessageId, report.Attempts, report.Direction));
        Assert.Equal(0, sut.OutboxCount);
    }

    [Fact]
    public async Task AckTimeout_TheResendIsLoggedOutsideTheOutboxLock()
    {
        // The logger is user code: from another thread it asks the client something that takes the outbox's lock.
        ReconnectingWebSocket? client = null;
        var answered = new List<bool>();
        var loggers = new CapturingLoggerFactory(line =>
        {
            if (line.EventId.Id == 202)
            {
                lock (answered)
                {
                    answered.Add(Task.Run(() => client!.OutboxCount).Wait(TimeSpan.FromSeconds(5)));
                }
            }
        });
        client = TestClients.Create(_connector, _time, o => o.Delivery = new DeliveryOptions { ReadAck = ReadAck, AckTimeout = AckTimeout }, loggers);
        _clients.Add(client);
        await client.StartAsync();
        var server = await AcceptAsync();

        var send = client.SendReliableAsync("m1|hello", "m1").AsTask();
        await server.ReceiveTextAsync();
        await _time.AdvanceWhenWaitingAsync(AckTimeout);
        Assert.Equal("m1|hello", await server.ReceiveTextAsync());

        lock (answered)
        {
            Assert.Equal([true], answered);
        }

        Assert.False(send.IsCompleted);
    }

    [Fact]
    public async Task Rejected_FaultsWithTheServersReason_AndIsNeverWrittenAgain()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var send = sut.SendReliableAsync("m1|hello", "m1").AsTask();
        await server.ReceiveTextAsync();
        await server.SendTextAsync("nack:m1:no such account");

        var dropped = await Assert.ThrowsAsync<MessageDroppedException>(() => send.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(DropReason.Rejected, dropped.Reason);
        Assert.Equal("no such account", dropped.Detail);
        Assert.Equal("Reliable message m1 was not delivered: the server rejected it (no such account).", dropped.Message);
        await probe.WaitForDropsAsync(1);
        Assert.Equal("no such account", probe.Drops[0].Detail);

        // Past the ack timeout, the next thing the server reads is the next message, not a resend.
        _time.Advance(AckTimeout * 2);
        await sut.SendAsync("after");
        Assert.Equal("after", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task OutboxFull_FailMode_RefusesAtTheCallAndReports()
    {
        var sut = CreateSut(d => { d.Capacity = 1; d.FullMode = OutboxFullMode.Fail; });
        using var probe = new ClientProbe(sut);

        await sut.EnqueueReliableAsync("m1|one", "m1");
        var refused = await Assert.ThrowsAsync<MessageDroppedException>(() => sut.EnqueueReliableAsync("m2|two", "m2").AsTask());

        Assert.Equal(DropReason.QueueFull, refused.Reason);
        Assert.Equal("m2", refused.MessageId);
        Assert.Contains("the outbox was full", refused.Message, StringComparison.Ordinal);
        await probe.WaitForDropsAsync(1);
        Assert.Equal(1, sut.OutboxCount);
    }

    [Fact]
    public async Task OutboxFull_WaitMode_WaitsForAnAck()
    {
        var sut = CreateSut(d => d.Capacity = 1);
        await sut.StartAsync();
        var server = await AcceptAsync();
        await sut.EnqueueReliableAsync("m1|one", "m1");

        var second = sut.EnqueueReliableAsync("m2|two", "m2").AsTask();
        Assert.Equal("m1|one", await server.ReceiveTextAsync());
        Assert.False(second.IsCompleted);
        await server.SendTextAsync("ack:m1");

        await second.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal("m2|two", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task OutboxFull_ByBytes_WaitsAndACancelledWaitIsNotAccepted()
    {
        var sut = CreateSut(d => d.MaxBytes = 10);
        await sut.EnqueueReliableAsync("m1|12345", "m1"); // 8 bytes
        using var cancel = new CancellationTokenSource();

        var waiting = sut.EnqueueReliableAsync("m2|12345", "m2", cancel.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(1, sut.OutboxCount);
        await sut.EnqueueReliableAsync("m2", "m2").AsTask().WaitAsync(ClientProbe.DefaultTimeout); // the id is free again, and 2 bytes fit
        Assert.Equal(2, sut.OutboxCount);
    }

    [Fact]
    public async Task BadCalls_ThrowAtTheCallWithWhatIsValid()
    {
        var sut = CreateSut(d => d.MaxBytes = 4);
        var plain = TestClients.Create(_connector, _time);
        _clients.Add(plain);

        var tooLarge = await Assert.ThrowsAsync<ArgumentException>(() => sut.EnqueueReliableAsync("12345", "big").AsTask());
        Assert.Contains("larger than the whole outbox (Delivery.MaxBytes = 4)", tooLarge.Message, StringComparison.Ordinal);
        await sut.EnqueueReliableAsync("1", "same");
        var duplicate = await Assert.ThrowsAsync<ArgumentException>(() => sut.EnqueueReliableAsync("2", "same").AsTask());
        Assert.Contains("'same' is already in the outbox", duplicate.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => { _ = sut.SendReliableAsync("x", "").AsTask(); });
        Assert.Throws<ArgumentException>(() => { _ = sut.SendReliableAsync("x", new string('i', ReconnectingWebSocket.MaxMessageIdLength + 1)).AsTask(); });
        Assert.Throws<ArgumentNullException>(() => { _ = sut.SendReliableAsync("x", null!).AsTask(); });
        var off = Assert.Throws<InvalidOperationException>(() => { _ = plain.SendReliableAsync("x", "id").AsTask(); });
        Assert.Equal("SendReliableAsync needs acknowledged delivery: set options.Delivery (with Delivery.ReadAck) when creating the client.", off.Message);
    }

    [Fact]
    public async Task MaxInFlightOne_TheNextMessageWaitsForTheAckOfThePrevious_PlainMessagesStillFlow()
    {
        var sut = CreateSut(d => d.MaxInFlight = 1);
        await sut.StartAsync();
        var server = await AcceptAsync();

        await sut.EnqueueReliableAsync("m1|one", "m1");
        await sut.EnqueueReliableAsync("m2|two", "m2");
        Assert.Equal("m1|one", await server.ReceiveTextAsync());
        await sut.SendAsync("plain");
        Assert.Equal("plain", await server.ReceiveTextAsync()); // m2 waits for m1's ack; the queue does not
        await server.SendTextAsync("ack:m1");

        Assert.Equal("m2|two", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task DueReliableMessage_GoesAheadOfPlainMessagesQueuedBehindIt()
    {
        var sut = CreateSut();
        // Nothing is connected yet: both wait, and the reliable one is written first.
        Assert.True(sut.TryEnqueue("plain"));
        await sut.EnqueueReliableAsync("m1|one", "m1");
        await sut.StartAsync();
        var server = await AcceptAsync();

        Assert.Equal("m1|one", await server.ReceiveTextAsync());
        Assert.Equal("plain", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task DeliveryTimeout_CountsOutagesToo()
    {
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(new WebSocketException("refused (test)"));
        var sut = CreateSut(d => d.DeliveryTimeout = TimeSpan.FromSeconds(30), o => o.Reconnect.InitialDelay = o.Reconnect.MaxDelay = TimeSpan.FromMinutes(5));
        using var probe = new ClientProbe(sut);
        var send = sut.SendReliableAsync("m1|one", "m1").AsTask();
        _ = sut.StartAsync();

        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(30));

        var dropped = await Assert.ThrowsAsync<MessageDroppedException>(() => send.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(DropReason.NotAcknowledged, dropped.Reason);
        Assert.Equal(0, dropped.Attempts);
        Assert.Contains("Delivery.DeliveryTimeout", dropped.Message, StringComparison.Ordinal);
        await probe.WaitForDropsAsync(1);
    }

    [Fact]
    public async Task PlainQueueDropModesAndTimeToLive_NeverEvictReliableMessages()
    {
        var sut = CreateSut(configure: o =>
        {
            o.SendQueue.Capacity = 1;
            o.SendQueue.FullMode = SendQueueFullMode.DropOldest;
            o.SendQueue.TimeToLive = TimeSpan.FromSeconds(1);
        });
        await sut.EnqueueReliableAsync("m1|kept", "m1");
        for (int i = 0; i < 5; i++)
        {
            sut.TryEnqueue($"plain {i}");
        }

        _time.Advance(TimeSpan.FromSeconds(2)); // every plain message expires
        sut.TryEnqueue("fresh");
        await sut.StartAsync();
        var server = await AcceptAsync();

        Assert.Equal("m1|kept", await server.ReceiveTextAsync());
        Assert.Equal("fresh", await server.ReceiveTextAsync());
        Assert.Equal(1, sut.OutboxCount);
    }

    [Fact]
    public async Task Dispose_WithoutAStore_ReportsEveryUnacknowledgedMessage()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.EnqueueReliableAsync("m1|one", "m1");
        var send = sut.SendReliableAsync("m2|two", "m2").AsTask();

        await sut.DisposeAsync();

        var dropped = await Assert.ThrowsAsync<MessageDroppedException>(() => send.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(DropReason.Disposed, dropped.Reason);
        Assert.Equal(["m1", "m2"], probe.Drops.Select(d => d.MessageId));
        Assert.All(probe.Drops, d => Assert.Equal(DropReason.Disposed, d.Reason));
        Assert.Contains("no Delivery.Store keeps it", probe.Drops[0].ToString(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sut.EnqueueReliableAsync("m3", "m3").AsTask());
    }

    [Fact]
    public async Task ReadAckThrows_TheMessageIsPublishedAndTheLoopLivesOn()
    {
        var sut = CreateSut(d => d.ReadAck = m => m.Text == "boom" ? throw new FormatException("bad (test)") : ReadAck(m));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        await server.SendTextAsync("boom");
        var send = sut.SendReliableAsync("m1|one", "m1").AsTask();
        await server.ReceiveTextAsync();
        await server.SendTextAsync("ack:m1");

        await send.WaitAsync(ClientProbe.DefaultTimeout);
        await probe.WaitForMessagesAsync(1);
        Assert.Equal(["boom"], probe.Texts);
    }

    [Fact]
    public async Task CancelledWhileWaitingForTheAck_TheMessageStaysAndItsOutcomeIsPublished()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();
        using var cancel = new CancellationTokenSource();

        var send = sut.SendReliableAsync("m1|one", "m1", cancel.Token).AsTask();
        await server.ReceiveTextAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(1, sut.OutboxCount);
        await server.SendTextAsync("ack:m1");

        await probe.WaitForAcksAsync(1);
        Assert.Equal(0, sut.OutboxCount);
    }

    [Fact]
    public void Options_DeliveryWithoutReadAck_IsRefusedByName()
    {
        var options = new ReconnectingWebSocketOptions { Uri = new Uri("ws://example.test/"), Delivery = new DeliveryOptions() };
        var error = Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(options));
        Assert.Equal("options.Delivery.ReadAck", error.ParamName);

        options.Delivery = new DeliveryOptions { ReadAck = ReadAck, MaxInFlight = 20, Capacity = 10 };
        var inFlight = Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectingWebSocket(options));
        Assert.Equal("options.Delivery.MaxInFlight", inFlight.ParamName);
    }
}
