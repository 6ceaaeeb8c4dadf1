using System.Diagnostics;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>Each sample runs by itself against its embedded server and says what it should, so samples cannot rot.</summary>
public class SampleTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    private static async Task<(int ExitCode, string Output)> RunSampleAsync(string name, string arguments = "")
    {
        string configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        string dll = Path.Combine(Repository.Root, "samples", name, "bin", configuration, "net10.0", $"{name}.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        using var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The {name} sample did not exit within {Limit}.");
        }

        return (process.ExitCode, await output + await errors);
    }

    /// <summary>Fails with the sample's whole output, so that a failure says what the sample did.</summary>
    private static void AssertSaid(string expected, string output) =>
        Assert.True(output.Contains(expected, StringComparison.Ordinal), $"The sample did not say '{expected}'. It said:\n{output}");

    [Fact]
    public async Task QuickStart_NoArguments_SurvivesTheDropsAndLosesNothing()
    {
        var (exitCode, output) = await RunSampleAsync("QuickStart");

        Assert.True(exitCode == 0, output);
        AssertSaid("messages lost 0", output);
        AssertSaid("reconnected after", output);
        AssertSaid("(closed by the server)", output);         // the 1012 close
        AssertSaid("(keep-alive timeout (no pong))", output); // the blackhole
        AssertSaid("(connection lost)", output);              // the server going down
        AssertSaid("(connect failed): ", output);             // while it is down, with the cause
        Assert.Matches(@"state: Reconnecting in \d+(\.\d+)? s \(", output); // and when the next attempt comes
    }

    [Fact]
    public async Task Outbox_ServerCrashAndClientKilled_NothingLostAndTheNewProcessResendsFromTheStore()
    {
        var (exitCode, output) = await RunSampleAsync("Outbox");

        Assert.True(exitCode == 0, output);
        AssertSaid("server: crashing now", output);
        AssertSaid("client: killed (process", output);
        AssertSaid("every order acknowledged; the server has", output);
        AssertSaid("lost 0", output);
        // The killed client's unacknowledged orders come back from its store in the new process.
        Assert.Matches(@"a new process starts on the same store, from order \d+\n.*connected, [1-9]\d* orders waiting in the outbox", output.Replace("\r", "", StringComparison.Ordinal));
        Assert.Matches(@"processed by the server 200, repeats the server ignored \d+", output);
    }

    [Fact]
    public async Task HostedService_Demo_TicksFlowAndShutdownClosesGracefully()
    {
        var (exitCode, output) = await RunSampleAsync("HostedService", "--demo");

        Assert.True(exitCode == 0, output);
        AssertSaid("Received ok", output);
        AssertSaid("Feed client stopped gracefully", output);
        AssertSaid("a close frame 'NormalClosure' (host stopping)", output);

        // OpenTelemetry's console exporter, on the host's shutdown: the client's instruments and spans.
        foreach (var exported in new[]
        {
            "websocket.client.connect.duration", "websocket.client.active_sessions", "websocket.client.session.duration",
            "websocket.client.sent.messages", "websocket.client.sent.bytes", "websocket.client.received.messages",
            "websocket.client.send_queue.messages", "websocket.disconnect.reason: stopped", "websocket.connect", "websocket.session",
        })
        {
            AssertSaid(exported, output);
        }
    }

    [Fact]
    public async Task PriceTicker_Demo_ResubscribesAfterEveryReconnect()
    {
        var (exitCode, output) = await RunSampleAsync("PriceTicker");

        Assert.True(exitCode == 0, output);
        AssertSaid("every symbol updated after the last reconnect: True", output);
        Assert.Matches(@"reconnects [1-9]", output);

        // A live price for MSFT on the last frame (a symbol with no price prints "-", and a stale one says so).
        var lastFrame = output[output.LastIndexOf("live", StringComparison.Ordinal)..];
        Assert.Matches(@"MSFT +\d+\.\d\d +\d+\.\d s ago\r?\n", lastFrame);
    }

    [Fact]
    public async Task Chat_Demo_BothClientsTalkBeforeAndAfterAServerRestart()
    {
        var (exitCode, output) = await RunSampleAsync("Chat", "--demo");

        Assert.True(exitCode == 0, output);
        AssertSaid("demo: both heard each other before and after the restart", output);
    }
}
