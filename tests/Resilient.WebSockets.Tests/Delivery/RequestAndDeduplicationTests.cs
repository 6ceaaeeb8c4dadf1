using System.Net.WebSockets;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Delivery;

/// <summary>Request/response and inbound de-duplication, on the in-memory connector and a fake clock. The test server's
/// responses are "res:id:body"; its at-least-once messages are "msg:id:body".</summary>
public sealed class RequestAndDeduplicationTests : IAsyncLifetime
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(6);

    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();
    private readonly List<ReconnectingWebSocket> _clients = [];
    private readonly List<ServerEnd> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

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

    private static string? Field(WebSocketMessage message, string prefix) =>
        message.MessageType == WebSocketMessageType.Text && message.Text.StartsWith(prefix, StringComparison.Ordinal) ? message.Text.Split(':')[1] : null;

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var client = TestClients.Create(_connector, _time, o =>
        {
            o.Requests = new RequestOptions { ReadCorrelationId = m => Field(m, "res:"), Timeout = RequestTimeout };
            o.Deduplication = new DeduplicationOptions { ReadMessageId = m => Field(m, "msg:"), Window = TimeSpan.FromMinutes(1), Capacity = 100 };
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
    public async Task Request_ReturnsItsResponse_WhichIsNotPublished_WhileAnUnknownOneIs()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var request = sut.RequestAsync("req:r1:price?", "r1").AsTask();
        Assert.Equal("req:r1:price?", await server.ReceiveTextAsync());
        await server.SendTextAsync("res:nobody:stray");
        await server.SendTextAsync("res:r1:42");

        var response = await request.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal("res:r1:42", response.Text);
        await probe.WaitForMessagesAsync(1);
        Assert.Equal(["res:nobody:stray"], probe.Texts);
    }

    [Fact]
    public async Task Request_NoResponseInTime_TimeoutException_AndTheLateResponseIsPublished()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var request = sut.RequestAsync("req:r1", "r1").AsTask();
        await server.ReceiveTextAsync();
        await _time.AdvanceWhenWaitingAsync(RequestTimeout);

        var timedOut = await Assert.ThrowsAsync<TimeoutException>(() => request.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal("No response to request r1 within 6.0 s; a response that comes later is published on Messages.", timedOut.Message);
        await server.SendTextAsync("res:r1:late");
        await probe.WaitForMessagesAsync(1);
        Assert.Equal(["res:r1:late"], probe.Texts);
    }

    [Fact]
    public async Task Request_SessionLostAfterTheWrite_FailModeFailsIt()
    {
        var sut = CreateSut();
        await sut.StartAsync();
        var server = await AcceptAsync();
        var request = sut.RequestAsync("req:r1", "r1").AsTask();
        await server.ReceiveTextAsync();

        server.Kill();

        var lost = await Assert.ThrowsAsync<WebSocketException>(() => request.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Contains("The session was lost before the response to request r1 came", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_SessionLostAfterTheWrite_ResendModeWritesItAgainAfterTheReconnect()
    {
        var sut = CreateSut(o => o.Requests!.OnDisconnect = RequestDisconnectMode.Resend);
        await sut.StartAsync();
        var first = await AcceptAsync();
        var request = sut.RequestAsync("req:r1", "r1").AsTask();
        Assert.Equal("req:r1", await first.ReceiveTextAsync());

        first.Kill();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        var second = await AcceptAsync();

        Assert.Equal("req:r1", await second.ReceiveTextAsync());
        await second.SendTextAsync("res:r1:ok");
        Assert.Equal("res:r1:ok", (await request.WaitAsync(ClientProbe.DefaultTimeout)).Text);
    }

    [Fact]
    public async Task Request_CancelledBeforeItWasWritten_IsNeverSent()
    {
        var sut = CreateSut();
        using var cancel = new CancellationTokenSource();
        var request = sut.RequestAsync("req:r1", "r1", cancellationToken: cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(ClientProbe.DefaultTimeout));

        await sut.StartAsync();
        var server = await AcceptAsync();
        await sut.SendAsync("next");
        Assert.Equal("next", await server.ReceiveTextAsync());
        Assert.Equal(0, sut.PendingSendCount);
    }

    [Fact]
    public async Task Request_BadCalls_ThrowAtTheCall()
    {
        var sut = CreateSut();
        var plain = TestClients.Create(_connector, _time);
        _clients.Add(plain);
        var waiting = sut.RequestAsync("req:r1", "r1").AsTask();

        await Assert.ThrowsAsync<ArgumentException>(() => sut.RequestAsync("req:r1", "r1").AsTask());
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = sut.RequestAsync("x", "r2", TimeSpan.Zero).AsTask(); });
        Assert.Throws<ArgumentException>(() => { _ = sut.RequestAsync("x", "").AsTask(); });
        var off = Assert.Throws<InvalidOperationException>(() => { _ = plain.RequestAsync("x", "r3").AsTask(); });
        Assert.Contains("options.Requests", off.Message, StringComparison.Ordinal);
        Assert.False(waiting.IsCompleted);
    }

    [Fact]
    public async Task Deduplication_ARepeatWithinTheWindowIsDroppedAndReported_AcrossAReconnectToo()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var first = await AcceptAsync();
        await first.SendTextAsync("msg:s1:hello");
        await first.SendTextAsync("msg:s1:hello");
        await first.SendTextAsync("no id");
        await probe.WaitForMessagesAsync(2);

        first.Kill();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        var second = await AcceptAsync();
        await second.SendTextAsync("msg:s1:hello"); // the server resends after the reconnect
        await second.SendTextAsync("msg:s2:world");
        await second.SendTextAsync("no id");

        await probe.WaitForMessagesAsync(4);
        Assert.Equal(["msg:s1:hello", "no id", "msg:s2:world", "no id"], probe.Texts);
        await probe.WaitForDropsAsync(2);
        Assert.All(probe.Drops, d => Assert.Equal((MessageDirection.Incoming, DropReason.Duplicate, "s1"), (d.Direction, d.Reason, d.MessageId)));
        Assert.Equal("Incoming text message s1 of 12 bytes dropped: it repeated a message already received (Deduplication)", probe.Drops[0].ToString());
    }

    [Fact]
    public async Task Deduplication_TheWindowAndTheCapacityBoundWhatIsRemembered()
    {
        var sut = CreateSut(o => o.Deduplication!.Capacity = 2);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        await server.SendTextAsync("msg:a");
        await server.SendTextAsync("msg:b");
        await server.SendTextAsync("msg:c"); // a is forgotten: only two are kept
        await server.SendTextAsync("msg:a");
        await probe.WaitForMessagesAsync(4);
        _time.Advance(TimeSpan.FromMinutes(1)); // and after the window, nothing is remembered
        await server.SendTextAsync("msg:a");
        await server.SendTextAsync("msg:c");

        await probe.WaitForMessagesAsync(6);
        Assert.Equal(["msg:a", "msg:b", "msg:c", "msg:a", "msg:a", "msg:c"], probe.Texts);
        Assert.Empty(probe.Drops);
    }

    [Fact]
    public void Options_MissingReaders_AreRefusedByName()
    {
        var options = new ReconnectingWebSocketOptions { Uri = new Uri("ws://example.test/"), Requests = new RequestOptions() };
        Assert.Equal("options.Requests.ReadCorrelationId", Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(options)).ParamName);
        options.Requests = null;
        options.Deduplication = new DeduplicationOptions();
        Assert.Equal("options.Deduplication.ReadMessageId", Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(options)).ParamName);
    }
}
