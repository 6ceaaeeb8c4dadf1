using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Receive and awaited send, every contestant in each round, the order rotating between rounds, medians over the rounds:
/// on a noisy 2-core machine this separates costs of a few percent that BenchmarkDotNet's per-case iterations (all of
/// one case, then all of the next) cannot. Contestants: Raw; RawKeepAlive (raw with the keep-alive our defaults set, the
/// runtime's own cost); Reconnecting (defaults: the client's own keep-alive); and Reconnecting whose app configured the
/// runtime's keep-alive instead (a <c>ConfigureWebSocket</c> that sets a pong timeout), what the defaults were before.
/// The clock starts at the first message received (receive) or at the first send (send), so connects are not timed.
/// Then bursts over wss:// with a pinned certificate, against raw's awaited sends. Run with --sidebyside (--quick: four
/// rounds instead of ten).
/// </summary>
public static class SideBySideRunner
{
    public static async Task RunAsync(bool quick)
    {
        int rounds = quick ? 4 : 10;
        using var server = ServerProcess.Start();
        Console.WriteLine("| scenario | Raw (median) | RawKeepAlive | Reconnecting | Reconnecting, runtime's keep-alive |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (size, count) in new[] { (32, 2_000_000), (1024, 400_000) })
        {
            var push = server.Url($"/push?n={count}&size={size}");
            await ReportAsync($"receive {size} B x {count}", rounds,
            [
                () => ReceiveRawAsync(push, count, keepAlive: false),
                () => ReceiveRawAsync(push, count, keepAlive: true),
                () => ReceiveClientAsync(push, count, runtimeKeepAlive: false),
                () => ReceiveClientAsync(push, count, runtimeKeepAlive: true),
            ]);
        }

        foreach (var (size, count) in new[] { (32, 100_000), (1024, 50_000) })
        {
            var sink = server.Url($"/sink?n={count}");
            var payload = new byte[size];
            await ReportAsync($"awaited send {size} B x {count}", rounds,
            [
                () => SendRawAsync(sink, payload, count, keepAlive: false),
                () => SendRawAsync(sink, payload, count, keepAlive: true),
                () => SendClientAsync(sink, payload, count, runtimeKeepAlive: false),
                () => SendClientAsync(sink, payload, count, runtimeKeepAlive: true),
            ]);
        }

        // Over wss:// with a pinned certificate: the callback moves onto the client's own handler, so a burst is still
        // written in batches.
        Console.WriteLine();
        Console.WriteLine("| wss://, pinned certificate | Raw, awaited (median) | Reconnecting, burst |");
        Console.WriteLine("|---|---:|---:|");
        var pin = server.Pin();
        foreach (var (size, count) in new[] { (32, 100_000), (1024, 50_000) })
        {
            var sink = server.TlsUrl($"/sink?n={count}");
            var payload = new byte[size];
            await ReportAsync($"send {size} B x {count}", rounds,
            [
                () => SendRawAsync(sink, payload, count, keepAlive: false, pin),
                () => BurstClientAsync(sink, payload, count, pin),
            ], columns: 2);
        }
    }

    private static async Task<double> BurstClientAsync(Uri sink, byte[] payload, int count, System.Net.Security.RemoteCertificateValidationCallback pin)
    {
        var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = sink,
            ConfigureWebSocket = o => o.RemoteCertificateValidationCallback = pin,
        });
        using var subscription = client.Messages.Subscribe(new Counter(_ => counted.TrySetResult()));
        await client.StartAsync();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            if (!client.TryEnqueue(payload))
            {
                await client.SendAsync(payload);
            }
        }

        await counted.Task;
        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task ReportAsync(string scenario, int rounds, Func<Task<double>>[] contestants, int columns = 4)
    {
        var times = contestants.Select(_ => new List<double>()).ToArray();
        await Rotation.RunAsync(rounds, contestants.Length, async index => times[index].Add(await contestants[index]()));

        var medians = times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
        var cells = medians.Select((m, i) => i == 0 ? $"{m:F0} ms" : $"{m / medians[0]:F2}").ToList();
        while (cells.Count < columns)
        {
            cells.Add("");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {scenario} | {string.Join(" | ", cells)} |"));
    }

    private static async Task<double> ReceiveRawAsync(Uri push, int count, bool keepAlive)
    {
        using var socket = new ClientWebSocket();
        ApplyKeepAlive(socket, keepAlive);
        await socket.ConnectAsync(push, CancellationToken.None);
        var clock = new Stopwatch();
        long chars = await RawSocket.ReceiveAsync(socket, count, 16 * 1024, decode: true, clock.Start);
        double ms = clock.Elapsed.TotalMilliseconds;
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        return chars > 0 ? ms : double.NaN;
    }

    private static ReconnectingWebSocketOptions Options(Uri uri, bool runtimeKeepAlive) => new()
    {
        Uri = uri,
        ConfigureWebSocket = runtimeKeepAlive ? o => o.KeepAliveTimeout = TimeSpan.FromSeconds(14) : null,
    };

    private static async Task<double> ReceiveClientAsync(Uri push, int count, bool runtimeKeepAlive)
    {
        long chars = 0;
        int received = 0;
        var clock = new Stopwatch();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(Options(push, runtimeKeepAlive));
        using var subscription = client.Messages.Subscribe(new Counter(message =>
        {
            chars += message.Text.Length;
            if (++received == 1)
            {
                clock.Start();
            }
            else if (received == count)
            {
                clock.Stop();
                done.TrySetResult();
            }
        }));
        await client.StartAsync();
        await done.Task;
        return chars > 0 ? clock.Elapsed.TotalMilliseconds : double.NaN;
    }

    private static async Task<double> SendRawAsync(Uri sink, byte[] payload, int count, bool keepAlive, System.Net.Security.RemoteCertificateValidationCallback? pin = null)
    {
        using var socket = new ClientWebSocket();
        ApplyKeepAlive(socket, keepAlive);
        socket.Options.RemoteCertificateValidationCallback = pin;
        await socket.ConnectAsync(sink, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            await socket.SendAsync(payload, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        await socket.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None); // the server's count
        double ms = clock.Elapsed.TotalMilliseconds;
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        return ms;
    }

    private static async Task<double> SendClientAsync(Uri sink, byte[] payload, int count, bool runtimeKeepAlive)
    {
        var counted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(Options(sink, runtimeKeepAlive));
        using var subscription = client.Messages.Subscribe(new Counter(_ => counted.TrySetResult()));
        await client.StartAsync();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            await client.SendAsync(payload);
        }

        await counted.Task;
        return clock.Elapsed.TotalMilliseconds;
    }

    private static void ApplyKeepAlive(ClientWebSocket socket, bool keepAlive)
    {
        if (keepAlive)
        {
            RawSocket.ApplyOurKeepAlive(socket);
        }
    }
}
