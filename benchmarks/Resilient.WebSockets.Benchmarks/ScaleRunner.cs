using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Scale: N idle connections in one process. Measures the time to connect them all (64 at a time) and what each costs
/// while idle: managed heap after a full collection, and process working set, divided by N. Not a BenchmarkDotNet suite,
/// because what matters is memory held, not allocated. Run with --scale.
/// </summary>
public static class ScaleRunner
{
    public static async Task RunAsync(int[] counts)
    {
        using var server = ServerProcess.Start();
        var uri = server.Url("/echo");
        Console.WriteLine("| Contestant | Connections | Connect all | Managed heap / connection | Working set / connection |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (int count in counts)
        {
            await MeasureAsync("Raw", count, async () =>
            {
                var socket = new ClientWebSocket();
                await socket.ConnectAsync(uri, CancellationToken.None);
                var buffer = new byte[4096]; // an expert's receive loop keeps one buffer per connection
                _ = socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask();
                return (socket, buffer);
            }, state => ((ClientWebSocket)((ValueTuple<ClientWebSocket, byte[]>)state).Item1).Abort());
            await MeasureAsync("ReconnectingWebSocket", count, async () =>
            {
                var client = new ReconnectingWebSocket(uri);
                await client.StartAsync();
                return client;
            }, state => ((ReconnectingWebSocket)state).Dispose());
            await MeasureAsync("WebsocketClient", count, async () =>
            {
                var client = new WebsocketClient(uri) { ReconnectTimeout = null };
                await client.Start();
                return client;
            }, state => ((WebsocketClient)state).Dispose());
        }
    }

    private static async Task MeasureAsync(string name, int count, Func<Task<object>> connect, Action<object> close)
    {
        var clients = new object[count];
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetBefore = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                clients[i] = await connect();
            }
            finally
            {
                gate.Release();
            }
        }));
        var elapsed = clock.Elapsed;
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetAfter = Environment.WorkingSet;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {count:N0} | {elapsed.TotalSeconds:F2} s | {(heapAfter - heapBefore) / count / 1024.0:F1} KB | {(workingSetAfter - workingSetBefore) / count / 1024.0:F1} KB |"));
        foreach (var client in clients)
        {
            close(client);
        }

        GC.KeepAlive(clients);
        await Task.Delay(500); // let the aborted connections unwind before the next contestant
    }
}
