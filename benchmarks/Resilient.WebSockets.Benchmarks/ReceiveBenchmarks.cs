using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Receive throughput: the server pushes N text messages as fast as a socket takes them (pre-built frames, written in
/// large batches), and each contestant receives them through its message API and reads each as a string. One
/// operation = one connection's N messages. <see cref="RawBytes"/> does not decode: it is the transport's limit, and
/// the proof that the server is not the bottleneck (if it were, Raw and RawBytes would take the same time; the program
/// says so after the run).
/// </summary>
[MemoryDiagnoser]
public class ReceiveBenchmarks : ServerBenchmarks
{

    [Params(32, 1024, 65536)]
    public int Size { get; set; }

    private int Count => Size switch { 32 => 200_000, 1024 => 100_000, _ => 4_000 };

    private Uri Push => Server.Url($"/push?n={Count}&size={Size}");

    [Benchmark(Baseline = true)]
    public Task<long> Raw() => RawAsync(decode: true);

    /// <summary>Raw without the UTF-8 decode: what the transport itself can do.</summary>
    [Benchmark]
    public Task<long> RawBytes() => RawAsync(decode: false);

    /// <summary>Raw with the keep-alive our defaults turn on (a ping every 15 s, a pong due within 15 s: how a dead link is
    /// found on .NET 9 and later): what the runtime's own keep-alive costs before any of ours.</summary>
    [Benchmark]
    public Task<long> RawKeepAlive() => RawAsync(decode: true, keepAlive: true);

    private async Task<long> RawAsync(bool decode, bool keepAlive = false)
    {
        using var socket = new ClientWebSocket();
        if (keepAlive)
        {
            RawSocket.ApplyOurKeepAlive(socket);
        }

        await socket.ConnectAsync(Push, CancellationToken.None);
        long chars = await RawSocket.ReceiveAsync(socket, Count, Math.Max(Size, 16 * 1024), decode);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        return chars;
    }

    [Benchmark]
    public Task<long> Reconnecting() => ReceiveAsync(inline: false);

    /// <summary>The same, with <see cref="ReceiveBufferOptions.DeliverInline"/>: the cost of the buffer hop.</summary>
    [Benchmark]
    public Task<long> ReconnectingInline() => ReceiveAsync(inline: true);

    private async Task<long> ReceiveAsync(bool inline)
    {
        long chars = 0;
        int received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = Push, ReceiveBuffer = { DeliverInline = inline } });
        using var subscription = client.Messages.Subscribe(new Counter(message =>
        {
            chars += message.Text.Length;
            if (++received == Count)
            {
                done.TrySetResult();
            }
        }));
        await client.StartAsync();
        await done.Task;
        return chars;
    }

    [Benchmark]
    public async Task<long> WebsocketClient()
    {
        long chars = 0;
        int received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = new WebsocketClient(Push) { IsReconnectionEnabled = false, ReconnectTimeout = null };
        using var subscription = client.MessageReceived.Subscribe(message =>
        {
            chars += message.Text!.Length;
            if (++received == Count)
            {
                done.TrySetResult();
            }
        });
        await client.Start();
        await done.Task;
        return chars;
    }
}

/// <summary>An observer made of one delegate (the library does not depend on Rx's Subscribe extensions being imported).</summary>
internal sealed class Counter(Action<WebSocketMessage> onNext) : IObserver<WebSocketMessage>
{
    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void OnNext(WebSocketMessage value) => onNext(value);
}
