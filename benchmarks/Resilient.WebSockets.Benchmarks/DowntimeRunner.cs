using System.Globalization;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// The reconnect itself, as the client reports it: <see cref="ConnectedInfo.Downtime"/> (from the loss of a session to
/// the next connect) over 200 server-side TCP aborts, with InitialDelay = MaxDelay = 0. Run with --downtime.
/// </summary>
public static class DowntimeRunner
{
    private const int Drops = 200;

    public static async Task RunAsync()
    {
        using var server = ServerProcess.Start();
        var downtimes = new List<double>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/abort?after=1"),
            Reconnect = { InitialDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero, MinUptime = TimeSpan.Zero },
            // Each new session sends one message, which the server echoes and then aborts the connection.
            OnConnected = (session, token) => session.SendAsync("x", token),
        });
        using var connects = client.Connected.Subscribe(new Observer<ConnectedInfo>(info =>
        {
            if (!info.IsReconnect)
            {
                return;
            }

            lock (downtimes)
            {
                downtimes.Add(info.Downtime.TotalMilliseconds);
                if (downtimes.Count == Drops)
                {
                    done.TrySetResult();
                }
            }
        }));
        await client.StartAsync();
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await client.StopAsync();

        downtimes.Sort();
        double P(double q) => downtimes[Math.Min(downtimes.Count - 1, (int)(q * downtimes.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| reconnects | mean | p50 | p99 |\n|---:|---:|---:|---:|\n| {downtimes.Count} | {downtimes.Average():F3} ms | {P(0.5):F3} ms | {P(0.99):F3} ms |"));
    }
}
