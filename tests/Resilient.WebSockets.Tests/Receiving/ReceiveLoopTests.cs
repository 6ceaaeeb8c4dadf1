using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Health;
using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Receiving;

/// <summary>The receive loop on an in-memory WebSocket pair, delivering inline so each hand-over is visible at once.</summary>
public sealed class ReceiveLoopTests : IDisposable
{
    private const int MaxMessageSize = 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly List<WebSocketMessage> _delivered = [];
    private readonly List<(WebSocketMessageType Type, int Length, DropReason Reason)> _dropped = [];
    private readonly WebSocket _client;
    private readonly WebSocket _server;
    private readonly InMemoryPipe.End _serverStream;
    private readonly TestTimeProvider _time = new();
    private MessageDispatcher _dispatcher;

    public ReceiveLoopTests()
    {
        var pipe = new InMemoryPipe(TimeProvider.System);
        var (clientStream, serverStream) = (pipe.Client, pipe.Server);
        _serverStream = serverStream;
        _client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        _server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        _dispatcher = CreateDispatcher(new ReceiveBufferOptions { DeliverInline = true });
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    private ReceiveLoop CreateSut(HeartbeatOptions? heartbeat = null)
    {
        var options = new ReconnectingWebSocketOptions { Uri = new Uri("ws://example.test/"), Heartbeat = heartbeat, TimeProvider = _time };
        var health = new SessionHealth(options, keepAliveTimesOut: false, keepAliveLink: null, (_, _) => default, (_, _) => { });
        return new ReceiveLoop(_client, _dispatcher, health, MaxMessageSize, _time, NullLogger.Instance, "test");
    }

    private List<string> DeliveredTexts()
    {
        lock (_delivered)
        {
            return [.. _delivered.Select(m => m.Text)];
        }
    }

    /// <summary>A dispatcher with the hand-over on, whose observer blocks on <paramref name="text"/> until released.</summary>
    private MessageDispatcher CreateDispatcherBlockingOn(string text, ManualResetEventSlim entered, ManualResetEventSlim release) =>
        CreateDispatcher(new ReceiveBufferOptions(), message =>
        {
            if (message.Text == text)
            {
                entered.Set();
                release.Wait(Timeout);
            }
        });

    private MessageDispatcher CreateDispatcher(ReceiveBufferOptions options, Action<WebSocketMessage>? observer = null)
    {
        var messages = new Broadcast<WebSocketMessage>(_ => { });
        messages.Subscribe(new Testing.Recorder<WebSocketMessage>(message =>
        {
            observer?.Invoke(message);
            lock (_delivered)
            {
                _delivered.Add(message);
            }
        }));
        return new MessageDispatcher(options, messages, (type, length, reason) => _dropped.Add((type, length, reason)));
    }

    private Task SendAsync(string text, bool endOfMessage = true) =>
        _server.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage, CancellationToken.None);

    [Fact]
    public async Task Fragments_AreHandedOverAsOneMessage_AndTheServersCloseEndsTheLoop()
    {
        using var sut = CreateSut();
        var run = sut.RunAsync(CancellationToken.None);

        await SendAsync("hel", endOfMessage: false);
        await SendAsync("lo");
        await _server.SendAsync(new byte[] { 7 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        var outcome = await run.WaitAsync(Timeout);
        Assert.Equal(ReceiveEnd.ClosedByServer, outcome.End);
        Assert.Equal(["hello"], _delivered.Where(m => m.MessageType == WebSocketMessageType.Text).Select(m => m.Text));
        Assert.Equal(new byte[] { 7 }, _delivered[1].Data.ToArray());
        Assert.Equal("done", _client.CloseStatusDescription);
    }

    [Fact]
    public async Task AMessageOverTheLimit_IsReportedDropped_NothingOfItIsPublished_AndTheLoopEnds()
    {
        using var sut = CreateSut();
        var run = sut.RunAsync(CancellationToken.None);

        await SendAsync("small");
        await SendAsync(new string('x', 700), endOfMessage: false);
        await SendAsync(new string('x', 700));

        var outcome = await run.WaitAsync(Timeout);
        Assert.Equal(ReceiveEnd.MessageTooLarge, outcome.End);
        Assert.Equal(["small"], _delivered.Select(m => m.Text));
        var (type, length, reason) = Assert.Single(_dropped);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal(DropReason.MessageTooLarge, reason);
        Assert.True(length > MaxMessageSize, $"reported length {length}");
    }

    [Fact]
    public async Task AMessageOfExactlyTheLimit_IsDelivered()
    {
        using var sut = CreateSut();
        var run = sut.RunAsync(CancellationToken.None);

        await SendAsync(new string('x', MaxMessageSize));
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        await run.WaitAsync(Timeout);
        Assert.Equal(MaxMessageSize, Assert.Single(_delivered).Text.Length);
        Assert.Empty(_dropped);
    }

    [Fact]
    public async Task HeartbeatReplies_AreKeptOffMessages_UnlessAskedFor()
    {
        using var sut = CreateSut(new HeartbeatOptions());
        var run = sut.RunAsync(CancellationToken.None);

        await SendAsync("pong");
        await SendAsync("data");
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        await run.WaitAsync(Timeout);
        Assert.Equal(["data"], _delivered.Select(m => m.Text));
    }

    [Fact]
    public async Task ABrokenConnection_EndsTheLoopAsFailed_WithTheError()
    {
        using var sut = CreateSut();
        var run = sut.RunAsync(CancellationToken.None);
        await SendAsync("before");

        _serverStream.Pipe.Break();

        var outcome = await run.WaitAsync(Timeout);
        Assert.Equal(ReceiveEnd.Failed, outcome.End);
        Assert.NotNull(outcome.Exception);
        Assert.Equal(["before"], _delivered.Select(m => m.Text));
    }

    [Fact]
    public async Task AnObserverCallThatOverrunsTheWatchdog_MovesReadingToANewLoop_WhichReadsOnAndEndsTheSession()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        _dispatcher = CreateDispatcherBlockingOn("slow", entered, release);
        using var sut = CreateSut();
        var run = sut.RunAsync(CancellationToken.None);
        await SendAsync("slow");
        Assert.True(entered.Wait(Timeout));

        _time.AdvancePastHandOver(); // two ticks see the same delivery, so reading moves on
        await SendAsync("a");
        await SendAsync("b");
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        var outcome = await run.WaitAsync(Timeout); // ended while the observer is still in "slow"
        Assert.Equal(ReceiveEnd.ClosedByServer, outcome.End);
        Assert.Equal(0, _time.AliveTimers); // the watchdog stops with the loop
        Assert.Empty(DeliveredTexts()); // recorded when the observer returns
        release.Set();
        await _dispatcher.WhenDelivered().WaitAsync(Timeout);
        Assert.Equal(["slow", "a", "b"], DeliveredTexts());
    }

    [Fact]
    public async Task AMessageAlreadyWaitingAtTheStart_ASlowObserverOfIt_NeitherHoldsTheCallerNorTheEndOfTheSession()
    {
        // Found against Node's ws server, which sends on connect: the first receive completed at once, and its observer
        // ran inside RunAsync, so the session could not see its end until the observer returned.
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        _dispatcher = CreateDispatcherBlockingOn("first", entered, release);
        using var sut = CreateSut();
        await SendAsync("first");

        // RunAsync must return its task at once (not unwrapped: the call itself is what is timed).
        var call = Task.Factory.StartNew(() => sut.RunAsync(CancellationToken.None), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
        var run = await call.WaitAsync(Timeout);
        Assert.True(entered.Wait(Timeout));
        _time.AdvancePastHandOver();
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Equal(ReceiveEnd.ClosedByServer, (await run.WaitAsync(Timeout)).End);
        release.Set();
        await _dispatcher.WhenDelivered().WaitAsync(Timeout);
        Assert.Equal(["first"], DeliveredTexts());
    }

    [Fact]
    public async Task WithoutTheWatchdog_ASlowObserverHoldsTheLoop_AndNoTimerRuns()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        _dispatcher = CreateDispatcher(new ReceiveBufferOptions { DeliverInline = true }, message =>
        {
            entered.Set();
            release.Wait(Timeout);
        });
        using var sut = CreateSut();
        var run = sut.RunAsync(CancellationToken.None);
        Assert.Equal(0, _time.AliveTimers);
        await SendAsync("slow");
        Assert.True(entered.Wait(Timeout));

        _time.Advance(TimeSpan.FromSeconds(10));
        await _server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.False(run.IsCompleted); // nobody reads the close while the observer runs

        release.Set();
        Assert.Equal(ReceiveEnd.ClosedByServer, (await run.WaitAsync(Timeout)).End);
    }
}
