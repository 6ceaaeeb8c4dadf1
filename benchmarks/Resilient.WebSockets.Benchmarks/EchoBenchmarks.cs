using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>Echo round trip: one 32 B message out, wait for it to come back, then the next. One operation = one round trip.</summary>
[MemoryDiagnoser]
public class EchoBenchmarks : ServerBenchmarks
{
    private const int RoundTrips = 2_000;
    private readonly byte[] _payload = new byte[32];

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips)]
    public async Task Raw()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(Server.Url("/echo"), CancellationToken.None);
        var buffer = new byte[64];
        for (int i = 0; i < RoundTrips; i++)
        {
            await socket.SendAsync(_payload, WebSocketMessageType.Binary, true, CancellationToken.None);
            await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public async Task Reconnecting()
    {
        var reply = new SemaphoreSlim(0);
        await using var client = new ReconnectingWebSocket(Server.Url("/echo"));
        using var subscription = client.Messages.Subscribe(new Counter(_ => reply.Release()));
        await client.StartAsync();
        for (int i = 0; i < RoundTrips; i++)
        {
            await client.SendAsync(_payload);
            await reply.WaitAsync();
        }
    }

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public async Task WebsocketClient()
    {
        var reply = new SemaphoreSlim(0);
        using var client = new WebsocketClient(Server.Url("/echo")) { IsReconnectionEnabled = false, ReconnectTimeout = null };
        using var subscription = client.MessageReceived.Subscribe(_ => reply.Release());
        await client.Start();
        for (int i = 0; i < RoundTrips; i++)
        {
            await client.SendInstant(_payload);
            await reply.WaitAsync();
        }
    }
}
