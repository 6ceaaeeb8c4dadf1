using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Send throughput: the app hands N pre-encoded binary messages to the contestant as fast as it accepts them; the
/// operation ends when the server has counted all N (it answers "done"). One operation = N messages.
/// </summary>
[MemoryDiagnoser]
public class SendBenchmarks
{
    private ServerProcess _server = null!;
    private byte[] _payload = null!;

    [Params(32, 1024)]
    public int Size { get; set; }

    private int Count => Size == 32 ? 100_000 : 50_000;

    private Uri Sink => _server.Url($"/sink?n={Count}");

    [GlobalSetup]
    public void Setup()
    {
        _server = ServerProcess.Start();
        _payload = new byte[Size];
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    [Benchmark(Baseline = true)]
    public async Task Raw()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Sink, CancellationToken.None);
        for (int i = 0; i < Count; i++)
        {
            await socket.SendAsync(_payload, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        var buffer = new byte[16];
        await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Benchmark]
    public async Task Reconnecting()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = Sink, SendQueue = { Capacity = 4096 } });
        using var subscription = client.Messages.Subscribe(new Counter(_ => done.TrySetResult()));
        await client.StartAsync();
        for (int i = 0; i < Count; i++)
        {
            if (!client.TryEnqueue(_payload))
            {
                await client.SendAsync(_payload);
            }
        }

        await done.Task;
    }

    [Benchmark]
    public async Task WebsocketClient()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = new WebsocketClient(Sink) { IsReconnectionEnabled = false, ReconnectTimeout = null };
        using var subscription = client.MessageReceived.Subscribe(_ => done.TrySetResult());
        await client.Start();
        for (int i = 0; i < Count; i++)
        {
            client.Send(_payload);
        }

        await done.Task;
    }
}
