using System.Net.WebSockets;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests;

/// <summary>Observers calling back into the client: every call returns, nothing deadlocks, and the events stay in order.</summary>
public class ReentrancyTests
{
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new() { AnswerCloses = true };

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null) => TestClients.Create(_connector, _time, configure);

    [Fact]
    public async Task StopAsync_FromAStateChangesObserver_ReturnsAndStopsTheClient()
    {
        using var sut = CreateSut();
        var stopped = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.StateChanges.Subscribe(new Recorder<ConnectionStateChange>(change =>
        {
            if (change.Current == ConnectionState.Connected)
            {
                stopped.TrySetResult(sut.StopAsync());
            }
        }));
        using var probe = new ClientProbe(sut);

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await (await stopped.Task.WaitAsync(ClientProbe.DefaultTimeout)).WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(ConnectionState.Stopped, sut.State);
        Assert.Equal(
            [ConnectionState.NotStarted, ConnectionState.Connecting, ConnectionState.Connected, ConnectionState.Stopping, ConnectionState.Stopped],
            probe.StateSequence);
    }

    [Fact]
    public async Task StopAsyncAndReconnectAsync_FromAnObserverWhileTheAppIsInsideStopAsync_AllReturn()
    {
        using var sut = CreateSut();
        var calls = new List<Task>();
        using var observer = sut.StateChanges.Subscribe(new Recorder<ConnectionStateChange>(change =>
        {
            if (change.Current == ConnectionState.Stopping)
            {
                calls.Add(sut.StopAsync());
                calls.Add(Assert.ThrowsAsync<InvalidOperationException>(() => sut.ReconnectAsync()));
            }
        }));
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        await sut.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await Task.WhenAll(calls).WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(2, calls.Count);
        Assert.Equal(ConnectionState.Stopped, sut.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StopOrDispose_FromAnAcknowledgedObserver_ReturnsAndTheOtherReliableMessageIsStillSettled(bool dispose)
    {
        var connector = new InMemoryConnector(); // reads what the client writes here, then answers its close
        var sut = TestClients.Create(connector, _time, o => o.Delivery = new DeliveryOptions
        {
            ReadAck = m => m.MessageType == WebSocketMessageType.Text && m.Text.StartsWith("ack:", StringComparison.Ordinal) ? MessageAck.Accepted(m.Text[4..]) : null,
        });
        var called = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.Acknowledged.Subscribe(new Recorder<AcknowledgedMessage>(_ =>
            called.TrySetResult(dispose ? sut.DisposeAsync().AsTask() : sut.StopAsync())));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await connector.AcceptAsync();
        var first = sut.SendReliableAsync("one", "m1").AsTask();
        var second = sut.SendReliableAsync("two", "m2").AsTask();
        Assert.Equal("one", await server.ReceiveTextAsync());
        Assert.Equal("two", await server.ReceiveTextAsync());
        server.StartAnsweringCloses();

        await server.SendTextAsync("ack:m1");
        await (await called.Task.WaitAsync(ClientProbe.DefaultTimeout)).WaitAsync(ClientProbe.DefaultTimeout);
        await first.WaitAsync(ClientProbe.DefaultTimeout);

        // m2 was never acknowledged: stopping keeps it in the outbox for the next start, disposing (no store) drops it.
        if (dispose)
        {
            var dropped = await Assert.ThrowsAsync<MessageDroppedException>(() => second.WaitAsync(ClientProbe.DefaultTimeout));
            Assert.Equal(DropReason.Disposed, dropped.Reason);
            await probe.WaitUntilAsync(p => p.StatesCompleted && p.Drops.Any(d => d.MessageId == "m2"), "the streams to complete and m2 to be reported");
        }
        else
        {
            Assert.Equal(ConnectionState.Stopped, sut.State);
            Assert.False(second.IsCompleted);
            Assert.Equal(1, sut.OutboxCount);
            await sut.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        }

        Assert.Equal(["m1"], probe.Acks.Select(a => a.MessageId));
    }

    [Fact]
    public async Task DisposeAsync_FromADroppedObserver_ReturnsAndCompletesEveryStream()
    {
        var sut = CreateSut(o => { o.SendQueue.Capacity = 1; o.SendQueue.FullMode = SendQueueFullMode.Fail; });
        var disposing = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.Dropped.Subscribe(new Recorder<DroppedMessage>(_ => disposing.TrySetResult(sut.DisposeAsync().AsTask())));
        using var probe = new ClientProbe(sut);
        var start = sut.StartAsync();
        await start.WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        server.Kill();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);
        Assert.True(sut.TryEnqueue("kept"));

        Assert.False(sut.TryEnqueue("refused"));
        await (await disposing.Task.WaitAsync(ClientProbe.DefaultTimeout)).WaitAsync(ClientProbe.DefaultTimeout);

        await probe.WaitUntilAsync(p => p.StatesCompleted && p.MessagesCompleted, "every stream to complete");
        Assert.Equal([DropReason.QueueFull, DropReason.Disposed], probe.Drops.Select(d => d.Reason));
    }

    [Fact]
    public async Task ReconnectAsync_FromAConnectedObserver_CompletesAtTheNextConnect()
    {
        using var sut = CreateSut();
        var reconnected = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.Connected.Subscribe(new Recorder<ConnectedInfo>(info =>
        {
            if (!info.IsReconnect)
            {
                reconnected.TrySetResult(sut.ReconnectAsync());
            }
        }));
        using var probe = new ClientProbe(sut);

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await (await reconnected.Task.WaitAsync(ClientProbe.DefaultTimeout)).WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(2, probe.Connects.Count);
        Assert.Equal(DisconnectReason.ReconnectRequested, Assert.Single(probe.Disconnects).Reason);
    }

    [Fact]
    public async Task StartAsync_FromAStateChangesObserverOnStopped_StartsTheClientAgain()
    {
        using var sut = CreateSut();
        var restarted = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.StateChanges.Subscribe(new Recorder<ConnectionStateChange>(change =>
        {
            if (change.Current == ConnectionState.Stopped)
            {
                restarted.TrySetResult(sut.StartAsync());
            }
        }));
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        await sut.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await (await restarted.Task.WaitAsync(ClientProbe.DefaultTimeout)).WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(ConnectionState.Connected, sut.State);
        Assert.Equal(2, _connector.Attempts);
    }

    /// <summary>With the default options a Messages observer runs on the receive loop itself, whose end every one of
    /// these calls waits for: each must still return (its task completing once the observer has returned).</summary>
    [Theory]
    [InlineData("StopAsync")]
    [InlineData("ReconnectAsync")]
    [InlineData("DisposeAsync")]
    public async Task ClientCalls_FromAMessagesObserverOnTheReceiveLoop_AllReturn(string call)
    {
        var sut = CreateSut();
        var called = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.Messages.Subscribe(new Recorder<WebSocketMessage>(_ => called.TrySetResult(call switch
        {
            "StopAsync" => sut.StopAsync(),
            "ReconnectAsync" => sut.ReconnectAsync(),
            _ => sut.DisposeAsync().AsTask(),
        })));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        await (await _connector.AcceptAsync()).SendTextAsync("go");
        await (await called.Task.WaitAsync(ClientProbe.DefaultTimeout)).WaitAsync(ClientProbe.DefaultTimeout);

        var expected = call switch
        {
            "StopAsync" => ConnectionState.Stopped,
            "ReconnectAsync" => ConnectionState.Connected,
            _ => ConnectionState.Stopped,
        };
        Assert.Equal(expected, sut.State);
        sut.Dispose();
    }

    [Fact]
    public async Task Dispose_FromAMessagesObserverDeliveringInline_NothingIsPublishedAfterOnCompleted()
    {
        var sut = CreateSut(o => o.ReceiveBuffer.DeliverInline = true);
        var events = new List<string>();
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var observer = sut.Messages.Subscribe(new Recorder<WebSocketMessage>(
            message =>
            {
                lock (events)
                {
                    events.Add(message.Text);
                }

                sut.Dispose();
            },
            () =>
            {
                lock (events)
                {
                    events.Add("completed");
                }

                completed.TrySetResult();
            }));
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.SendTextAsync("one");
        await server.SendTextAsync("two");
        await completed.Task.WaitAsync(ClientProbe.DefaultTimeout);
        await sut.RunCompletion!.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(["one", "completed"], events);
    }

    [Fact]
    public async Task Dispose_WhileAnotherThreadDeliversInline_OnNextNeverFollowsOnCompleted()
    {
        var sut = CreateSut(o => o.ReceiveBuffer.DeliverInline = true);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var events = new List<string>();
        using var observer = sut.Messages.Subscribe(new Recorder<WebSocketMessage>(
            message =>
            {
                lock (events)
                {
                    events.Add(message.Text);
                }

                inside.Set();
                release.Wait(ClientProbe.DefaultTimeout);
            },
            () =>
            {
                lock (events)
                {
                    events.Add("completed");
                }
            }));
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        await server.SendTextAsync("one");
        await server.SendTextAsync("two");
        Assert.True(inside.Wait(ClientProbe.DefaultTimeout));

        sut.Dispose();
        lock (events)
        {
            Assert.Equal(["one"], events); // OnCompleted waits for the call under way
        }

        release.Set();
        await sut.RunCompletion!.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(["one", "completed"], events);
    }

    [Fact]
    public async Task ALoggerThatStopsTheClient_WhenADirectWriteFails_DoesNotDeadlock()
    {
        var connector = new InMemoryConnector { AnswerCloses = true };
        var time = new TestTimeProvider();
        ReconnectingWebSocket? client = null;
        var stopped = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var loggers = new CapturingLoggerFactory(line =>
        {
            if (line.EventId.Id == 200) // "a write failed": a logger is user code, and may call back into the client
            {
                stopped.TrySetResult(client!.StopAsync().Wait(TimeSpan.FromSeconds(5)));
            }
        });
        using var sut = TestClients.Create(connector, time, loggers: loggers);
        client = sut;
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await connector.AcceptAsync();
        server.HoldClientWrites();
        var send = sut.SendAsync("written directly, then the link dies").AsTask();

        server.Kill();

        Assert.True(await stopped.Task.WaitAsync(ClientProbe.DefaultTimeout), "StopAsync from the logger did not complete: the send lock was held while logging");
        Assert.Equal(ConnectionState.Stopped, sut.State);
        Assert.False(send.IsCompleted); // requeued: it waits for the next start
    }
}
