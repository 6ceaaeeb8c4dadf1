using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Websocket.Client;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Echo latency per round trip (BenchmarkDotNet reports means of whole iterations, not the tail of single round trips):
/// 32 B out, wait for it to come back; every contestant is connected first, warmed with 2 000 round trips, then measured
/// in 10 rounds of 2 000 round trips each, the order rotating every round, so no contestant pays alone for a noisy
/// moment of the machine. Prints mean, p50, p99 and p99.9 over the 20 000. Run with --latency.
/// </summary>
public static class LatencyRunner
{
    private const int Warmup = 2_000;
    private const int Rounds = 10;
    private const int RoundTrips = 2_000;

    public static async Task RunAsync()
    {
        using var server = ServerProcess.Start();
        var uri = server.Url("/echo");
        var payload = new byte[32];

        using var raw = new ClientWebSocket();
        await raw.ConnectAsync(uri, CancellationToken.None);
        var buffer = new byte[64];

        await using var reconnecting = new ReconnectingWebSocket(uri);
        var reconnectingReply = new SemaphoreSlim(0);
        using var reconnectingSubscription = reconnecting.Messages.Subscribe(new Counter(_ => reconnectingReply.Release()));
        await reconnecting.StartAsync();

        using var websocketClient = new WebsocketClient(uri) { ReconnectTimeout = null };
        var websocketClientReply = new SemaphoreSlim(0);
        using var websocketClientSubscription = websocketClient.MessageReceived.Subscribe(_ => websocketClientReply.Release());
        await websocketClient.Start();

        (string Name, Func<Task> RoundTrip)[] contestants =
        [
            ("Raw", async () =>
            {
                await raw.SendAsync(payload, WebSocketMessageType.Binary, true, CancellationToken.None);
                await raw.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            }),
            ("Reconnecting", async () =>
            {
                await reconnecting.SendAsync(payload);
                await reconnectingReply.WaitAsync();
            }),
            ("WebsocketClient", async () =>
            {
                await websocketClient.SendInstant(payload);
                await websocketClientReply.WaitAsync();
            }),
        ];

        var samples = contestants.Select(_ => new List<double>(Rounds * RoundTrips)).ToArray();
        foreach (var (_, roundTrip) in contestants)
        {
            for (int i = 0; i < Warmup; i++)
            {
                await roundTrip();
            }
        }

        await Rotation.RunAsync(Rounds, contestants.Length, index => MeasureAsync(contestants[index].RoundTrip, samples[index]));

        Console.WriteLine("| Contestant | mean | p50 | p99 | p99.9 | p99 vs Raw |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        double rawP99 = 0;
        for (int index = 0; index < contestants.Length; index++)
        {
            var sorted = samples[index].Order().ToArray();
            double p99 = Report(contestants[index].Name, sorted, rawP99);
            rawP99 = index == 0 ? p99 : rawP99;
        }
    }

    private static async Task MeasureAsync(Func<Task> roundTrip, List<double> samples)
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await roundTrip();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
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
