using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Echo latency per round trip (BenchmarkDotNet reports means of whole iterations, not the tail of single round trips):
/// 32 B out, wait for it to come back, 20 000 times after 2 000 warm-up round trips; prints mean, p50, p99 and p99.9.
/// Run with --latency.
/// </summary>
public static class LatencyRunner
{
    private const int Warmup = 2_000;
    private const int RoundTrips = 20_000;

    public static async Task RunAsync()
    {
        using var server = ServerProcess.Start();
        var uri = server.Url("/echo");
        var payload = new byte[32];
        Console.WriteLine("| Contestant | mean | p50 | p99 | p99.9 | p99 vs Raw |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");

        using var raw = new ClientWebSocket();
        await raw.ConnectAsync(uri, CancellationToken.None);
        var buffer = new byte[64];
        double rawP99 = Report("Raw", await MeasureAsync(async () =>
        {
            await raw.SendAsync(payload, WebSocketMessageType.Binary, true, CancellationToken.None);
            await raw.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        }), 0);

        await using (var client = new ReconnectingWebSocket(uri))
        {
            var reply = new SemaphoreSlim(0);
            using var subscription = client.Messages.Subscribe(new Counter(_ => reply.Release()));
            await client.StartAsync();
            Report("Reconnecting", await MeasureAsync(async () =>
            {
                await client.SendAsync(payload);
                await reply.WaitAsync();
            }), rawP99);
        }

        using (var client = new WebsocketClient(uri) { ReconnectTimeout = null })
        {
            var reply = new SemaphoreSlim(0);
            using var subscription = client.MessageReceived.Subscribe(_ => reply.Release());
            await client.Start();
            Report("WebsocketClient", await MeasureAsync(async () =>
            {
                await client.SendInstant(payload);
                await reply.WaitAsync();
            }), rawP99);
        }
    }

    private static async Task<double[]> MeasureAsync(Func<Task> roundTrip)
    {
        for (int i = 0; i < Warmup; i++)
        {
            await roundTrip();
        }

        var samples = new double[RoundTrips];
        for (int i = 0; i < RoundTrips; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await roundTrip();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return samples;
    }

    private static double Report(string name, double[] sorted, double rawP99)
    {
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        double p99 = P(0.99);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {sorted.Average():F1} µs | {P(0.50):F1} µs | {p99:F1} µs | {P(0.999):F1} µs | {(rawP99 > 0 ? p99 / rawP99 : 1):F2} |"));
        return p99;
    }
}
