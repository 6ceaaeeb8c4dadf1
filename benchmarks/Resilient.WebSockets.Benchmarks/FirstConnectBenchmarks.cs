using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// First contact of a new client: create it, connect (TCP and the upgrade), and know it is open; then close it. Raw is a
/// bare <see cref="ClientWebSocket"/> (<c>ConnectAsync</c>, <c>CloseAsync</c>); ReconnectingWebSocket is a new client
/// with default options (<c>StartAsync</c>, <c>DisposeAsync</c> with its close frame), so the table shows what the
/// client adds to a connect: options, its own handler, the loops it starts. One operation = one whole client lifetime.
/// </summary>
[MemoryDiagnoser]
public class FirstConnectBenchmarks : ServerBenchmarks
{

    private Uri Echo => Server.Url("/echo");

    [Benchmark(Baseline = true)]
    public async Task Raw()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Echo, CancellationToken.None);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Benchmark]
    public async Task Reconnecting()
    {
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = Echo });
        await client.StartAsync();
    }
}
