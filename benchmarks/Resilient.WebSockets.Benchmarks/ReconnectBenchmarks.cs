using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Reconnect: connect, exchange one message, the server aborts the TCP connection, and the operation ends when the
/// contestant is connected again and has received an echo on the new connection. Each contestant uses the smallest
/// reconnect delay it allows: ReconnectingWebSocket and Websocket.Client zero, Raw an immediate hand-written reconnect.
/// </summary>
[MemoryDiagnoser]
public class ReconnectBenchmarks
{
    private readonly byte[] _payload = new byte[32];
    private ServerProcess _server = null!;

    private Uri Abort => _server.Url("/abort?after=1");

    [GlobalSetup]
    public void Setup() => _server = ServerProcess.Start();

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark(Baseline = true)]
    public async Task Raw()
    {
        var buffer = new byte[64];
        using (var first = new ClientWebSocket())
        {
            await first.ConnectAsync(Abort, CancellationToken.None);
            await first.SendAsync(_payload, WebSocketMessageType.Binary, true, CancellationToken.None);
            await first.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            try
            {
                await first.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            }
            catch (WebSocketException)
            {
                // The abort: reconnect at once.
            }
        }

        using var second = new ClientWebSocket();
        await second.ConnectAsync(Abort, CancellationToken.None);
        await second.SendAsync(_payload, WebSocketMessageType.Binary, true, CancellationToken.None);
        await second.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
    }

    [Benchmark]
    public async Task Reconnecting()
    {
        var echoes = new SemaphoreSlim(0);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = Abort,
            Reconnect = { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
        });
        using var messages = client.Messages.Subscribe(new Counter(_ => echoes.Release()));
        using var connects = client.Connected.Subscribe(new Observer<ConnectedInfo>(info =>
        {
            if (info.IsReconnect)
            {
                reconnected.TrySetResult();
            }
        }));
        await client.StartAsync();
        await client.SendAsync(_payload);
        await echoes.WaitAsync();
        await reconnected.Task;
        await client.SendAsync(_payload);
        await echoes.WaitAsync();
    }

    [Benchmark]
    public async Task WebsocketClient()
    {
        var echoes = new SemaphoreSlim(0);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = new WebsocketClient(Abort) { ReconnectTimeout = null, ErrorReconnectTimeout = TimeSpan.Zero, LostReconnectTimeout = TimeSpan.Zero };
        using var messages = client.MessageReceived.Subscribe(_ => echoes.Release());
        using var reconnects = client.ReconnectionHappened.Subscribe(info =>
        {
            if (info.Type != ReconnectionType.Initial)
            {
                reconnected.TrySetResult();
            }
        });
        await client.Start();
        await client.SendInstant(_payload);
        await echoes.WaitAsync();
        await reconnected.Task;
        await client.SendInstant(_payload);
        await echoes.WaitAsync();
    }
}

internal sealed class Observer<T>(Action<T> onNext) : IObserver<T>
{
    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void OnNext(T value) => onNext(value);
}
