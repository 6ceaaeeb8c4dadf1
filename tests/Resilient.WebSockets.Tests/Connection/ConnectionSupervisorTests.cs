using System.Net.WebSockets;
using System.Reactive;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.Reconnection;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Connection;

/// <summary>The supervisor on its own: one run, its inbox, its sessions, and what it publishes, on the in-memory
/// connector and a fake clock.</summary>
public sealed class ConnectionSupervisorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(1);

    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new() { AnswerCloses = true };
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _delivered = new();
    private readonly ConnectionStateMachine _state;
    private readonly ConnectionSupervisor _sut;

    public ConnectionSupervisorTests()
    {
        var (context, state) = TestContexts.Create(new ReconnectingWebSocketOptions
        {
            Uri = new Uri("ws://example.test/socket"),
            Connector = _connector,
            TimeProvider = _time,
            ConnectTimeout = TimeSpan.FromSeconds(7),
            CloseTimeout = TimeSpan.FromSeconds(3),
            Reconnect = { UseJitter = false, InitialDelay = InitialDelay, MaxDelay = InitialDelay, MaxAttempts = 3 },
        });
        _state = state;
        var options = context.Options;
        _sut = new ConnectionSupervisor(context, _state, new ReconnectPolicy(options.Reconnect, options.ConnectTimeout, _time, NullLogger.Instance, "test"));
        var events = context.Events;

        events.StateChanges.Subscribe(Observer.Create<ConnectionStateChange>(change => Record($"state {change.Current}")));
        events.Connected.Subscribe(Observer.Create<ConnectedInfo>(info => Record($"connected {info.Attempt}")));
        events.Disconnected.Subscribe(Observer.Create<DisconnectedInfo>(info => Record($"disconnected {info.Reason}")));
    }

    private void Record(string value)
    {
        _delivered.Enqueue(value);
        _events.Writer.TryWrite(value);
    }

    private SupervisorRun Start()
    {
        Assert.True(_state.TryMoveTo(ConnectionState.Connecting));
        var run = new SupervisorRun();
        run.Completion = Task.Run(() => _sut.RunAsync(run, Task.CompletedTask));
        return run;
    }

    /// <summary>Reads events until <paramref name="expected"/> (skipping the initial NotStarted replay), returning what came before it.</summary>
    private async Task<List<string>> ReadUntilAsync(string expected)
    {
        var seen = new List<string>();
        while (true)
        {
            string next = await _events.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            if (next == expected)
            {
                return seen;
            }

            if (next != "state NotStarted")
            {
                seen.Add(next);
            }
        }
    }

    private static StopRequest Stop(bool flush = false) =>
        new(DisconnectReason.Stopped, WebSocketCloseStatus.NormalClosure, "bye", flush, CancellationToken.None);

    [Fact]
    public async Task FirstConnected_CompletesAfterTheObserversSawConnected()
    {
        var run = Start();
        var server = await _connector.AcceptAsync();

        await run.FirstConnected.Task.WaitAsync(Timeout);

        Assert.Contains("connected 1", _delivered);
        Assert.Equal(ConnectionState.Connected, _state.Current);
        Assert.Equal(1, server.Attempt);
        run.RequestStop(Stop());
        await run.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task LostSession_PublishesDisconnected_WaitsTheBackoff_ThenConnectsAgain()
    {
        var run = Start();
        var first = await _connector.AcceptAsync();
        await run.FirstConnected.Task.WaitAsync(Timeout);

        first.Kill();
        Assert.Equal(["state Connecting", "state Connected"], await ReadUntilAsync("connected 1"));
        Assert.Empty(await ReadUntilAsync("disconnected ConnectionLost"));
        await ReadUntilAsync("state Reconnecting");
        Assert.Equal(1, _connector.Attempts);

        await _time.AdvanceWhenWaitingAsync(InitialDelay);
        var second = await _connector.AcceptAsync();

        Assert.Equal(2, second.Attempt);
        Assert.Equal(["state Connecting", "state Connected"], await ReadUntilAsync("connected 1"));
        run.RequestStop(Stop());
        await run.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task StopCommand_ClosesTheSessionWithTheAppsReason_AndTheRunEndsStopped()
    {
        var run = Start();
        var server = await _connector.AcceptAsync();
        await run.FirstConnected.Task.WaitAsync(Timeout);

        Assert.True(run.RequestStop(Stop()));
        Assert.False(run.RequestStop(Stop())); // the first stop wins
        await run.Completion.WaitAsync(Timeout);

        Assert.Equal(ConnectionState.Stopped, _state.Current);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, server.Socket.CloseStatus);
        Assert.Equal("bye", server.Socket.CloseStatusDescription);
        var before = await ReadUntilAsync("state Stopped");
        Assert.Contains("disconnected Stopped", before);
    }

    [Fact]
    public async Task ReconnectCommand_OpensANewSessionAtOnce_AndAnswersWhenItIsUp()
    {
        var run = Start();
        await _connector.AcceptAsync();
        await run.FirstConnected.Task.WaitAsync(Timeout);

        var reconnected = run.RequestReconnect();
        var second = await _connector.AcceptAsync();
        await reconnected.WaitAsync(Timeout);

        Assert.Equal(2, second.Attempt);
        await ReadUntilAsync("disconnected ReconnectRequested");
        run.RequestStop(Stop());
        await run.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task PolicyGivesUp_FaultsFirstConnectedWithTheLastFailure_AndStops()
    {
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(new WebSocketException($"refused {attempt}"));
        var run = Start();

        for (int attempt = 1; attempt < 3; attempt++)
        {
            await _time.AdvanceWhenWaitingAsync(InitialDelay);
        }

        var failure = await Assert.ThrowsAsync<WebSocketException>(() => run.FirstConnected.Task.WaitAsync(Timeout));
        await run.Completion.WaitAsync(Timeout);

        Assert.Equal("refused 3", failure.Message);
        Assert.Equal(3, _connector.Attempts);
        Assert.Equal(ConnectionState.Stopped, _state.Current);
    }

    [Fact]
    public async Task StopWhileWaitingToReconnect_EndsTheRun_WithoutAnotherAttempt()
    {
        var run = Start();
        var server = await _connector.AcceptAsync();
        await run.FirstConnected.Task.WaitAsync(Timeout);
        server.Kill();
        await _time.WaitForTimerAsync(InitialDelay);

        run.RequestStop(Stop());
        await run.Completion.WaitAsync(Timeout);

        Assert.Equal(1, _connector.Attempts);
        Assert.Equal(ConnectionState.Stopped, _state.Current);
    }

    [Fact]
    public async Task ReconnectWhileWaitingAfterALoss_CutsTheWaitShort()
    {
        var run = Start();
        var server = await _connector.AcceptAsync();
        await run.FirstConnected.Task.WaitAsync(Timeout);
        server.Kill();
        await _time.WaitForTimerAsync(InitialDelay);

        var reconnected = run.RequestReconnect();
        await _connector.AcceptAsync();
        await reconnected.WaitAsync(Timeout);

        Assert.Equal(2, _connector.Attempts);
        run.RequestStop(Stop());
        await run.Completion.WaitAsync(Timeout);
    }
}
