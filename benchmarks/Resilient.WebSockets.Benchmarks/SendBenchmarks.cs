using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Send throughput: the app hands N pre-encoded binary messages to the contestant; the operation ends when the server
/// has counted all N (it answers "done"). One operation = N messages. Two patterns: <see cref="SendPattern.Awaited"/>,
/// one <c>await SendAsync</c> at a time (what most apps do), and <see cref="SendPattern.Burst"/>, an app that produces
/// faster than the network drains (<c>TryEnqueue</c>, awaiting <c>SendAsync</c> only when the queue is full). Raw
/// always awaits each send: it has no queue.
/// </summary>
[MemoryDiagnoser]
public class SendBenchmarks : ServerBenchmarks
{
    private byte[] _payload = null!;

    [Params(32, 1024)]
    public int Size { get; set; }

    [Params(SendPattern.Awaited, SendPattern.Burst)]
    public SendPattern Pattern { get; set; }

    private int Count => Size == 32 ? 100_000 : 50_000;

    private Uri Sink => Server.Url($"/sink?n={Count}");

    public override void Setup()
    {
        base.Setup();
        _payload = new byte[Size];
    }

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
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = Sink }); // the defaults
        using var subscription = client.Messages.Subscribe(new Counter(_ => done.TrySetResult()));
        await client.StartAsync();
        if (Pattern == SendPattern.Awaited)
        {
            for (int i = 0; i < Count; i++)
            {
                await client.SendAsync(_payload);
            }
        }
        else
        {
            for (int i = 0; i < Count; i++)
            {
                if (!client.TryEnqueue(_payload))
                {
                    await client.SendAsync(_payload);
                }
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
            if (Pattern == SendPattern.Awaited)
            {
                await client.SendInstant(_payload); // its only send that completes when written
            }
            else
            {
                client.Send(_payload);
            }
        }

        await done.Task;
    }
}

public enum SendPattern
{
    /// <summary>One awaited send at a time.</summary>
    Awaited,

    /// <summary>Queued without waiting, awaiting only when the queue is full.</summary>
    Burst,
}
