using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Reconnect: connect, send one message, the server echoes it and aborts the TCP connection; the operation ends when the
/// contestant is connected again (to /echo) and has an echo back on the new connection. Each contestant uses the smallest
/// reconnect delay it allows: ReconnectingWebSocket and Websocket.Client zero, Raw an immediate hand-written reconnect.
/// (The first echo is not awaited: an abort right after a write may discard it.) Every contestant ends with a close
/// handshake, as <c>DisposeAsync</c> does.
/// </summary>
[MemoryDiagnoser]
public class ReconnectBenchmarks : ServerBenchmarks
{
    private readonly byte[] _first = CreatePayload(1);
    private readonly byte[] _second = CreatePayload(2);

    private Uri Abort => Server.Url("/abort?after=1");

    private Uri Echo => Server.Url("/echo");

    private static byte[] CreatePayload(byte marker)
    {
        var payload = new byte[32];
        payload[0] = marker;
        return payload;
    }

    [Benchmark(Baseline = true)]
    public async Task Raw()
    {
        var buffer = new byte[64];
        using (var first = new ClientWebSocket())
        {
            await first.ConnectAsync(Abort, CancellationToken.None);
            await first.SendAsync(_first, WebSocketMessageType.Binary, true, CancellationToken.None);
            try
            {
                while (true)
                {
                    await first.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                }
            }
            catch (WebSocketException)
            {
                // The abort: reconnect at once.
            }
        }

        using var second = new ClientWebSocket();
        await second.ConnectAsync(Echo, CancellationToken.None);
        await second.SendAsync(_second, WebSocketMessageType.Binary, true, CancellationToken.None);
        await second.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        await second.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); // as DisposeAsync does
    }

    [Benchmark]
    public async Task Reconnecting()
    {
        var echoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int attempt = 0;
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            UriFactory = _ => ValueTask.FromResult(Interlocked.Increment(ref attempt) == 1 ? Abort : Echo),
            Reconnect = { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
        });
        using var messages = client.Messages.Subscribe(new Counter(m =>
        {
            if (m.Data.Span[0] == 2)
            {
                echoed.TrySetResult();
            }
        }));
        using var connects = client.Connected.Subscribe(new Observer<ConnectedInfo>(info =>
        {
            if (info.IsReconnect)
            {
                reconnected.TrySetResult();
            }
        }));
        await client.StartAsync();
        await client.SendAsync(_first);
        await reconnected.Task;
        await client.SendAsync(_second);
        await echoed.Task;
    }

    [Benchmark]
    public async Task WebsocketClient()
    {
        var echoed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = new WebsocketClient(Abort) { ReconnectTimeout = null, ErrorReconnectTimeout = TimeSpan.Zero, LostReconnectTimeout = TimeSpan.Zero };
        using var messages = client.MessageReceived.Subscribe(m =>
        {
            if (m.Binary is { Length: > 0 } data && data[0] == 2)
            {
                echoed.TrySetResult();
            }
        });
        using var reconnects = client.ReconnectionHappened.Subscribe(info =>
        {
            if (info.Type != ReconnectionType.Initial)
            {
                reconnected.TrySetResult();
            }
        });
        await client.Start();
        client.Url = Echo;
        await client.SendInstant(_first);
        await reconnected.Task;
        await client.SendInstant(_second);
        await echoed.Task;
        await client.Stop(WebSocketCloseStatus.NormalClosure, string.Empty);
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
