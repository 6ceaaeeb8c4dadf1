using System.Diagnostics;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>Dead-peer detection through a real TCP proxy that can turn into a blackhole (a half-open link).</summary>
public class DeadPeerDetectionTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1.5);

    /// <summary>By default the client keeps the link alive itself, on every runtime; an app that configures the runtime's
    /// keep-alive gets the runtime's, which has a pong timeout from net9 on. Each must find the blackhole in time and
    /// leave a quiet link alone.</summary>
#if NET9_0_OR_GREATER
    public static TheoryData<string> KeepAlives => ["client's", "runtime's"];
#else
    public static TheoryData<string> KeepAlives => ["client's"];
#endif

    /// <summary>Where the runtime's keep-alive is in charge instead of the client's own: an app that changes the keep-alive
    /// interval, and HTTP/2 (which frames the data itself). On net9 and later the runtime has a pong timeout; on net8 the
    /// client bounds unacknowledged data with the OS's TCP user timeout (Linux) instead.</summary>
    public static TheoryData<string> RuntimeKeepAlives => ["app's interval", "HTTP/2"];

    private static ReconnectingWebSocketOptions Options(BlackholeProxy proxy, string keepAlive = "client's") => Options(proxy.Port, keepAlive);

    private static ReconnectingWebSocketOptions Options(int port, string keepAlive) => new()
    {
        Uri = new Uri($"ws://127.0.0.1:{port}/echo"),
        ConfigureWebSocket = keepAlive switch
        {
#if NET9_0_OR_GREATER
            "runtime's" => o => o.KeepAliveTimeout = Timeout - TimeSpan.FromMilliseconds(1),
#endif
            "app's interval" => o => o.KeepAliveInterval = Interval - TimeSpan.FromMilliseconds(1),
            "HTTP/2" => o =>
            {
                o.HttpVersion = System.Net.HttpVersion.Version20;
                o.HttpVersionPolicy = System.Net.Http.HttpVersionPolicy.RequestVersionExact;
            },
            _ => null,
        },
        KeepAliveInterval = Interval,
        KeepAliveTimeout = Timeout,
        ConnectTimeout = TimeSpan.FromSeconds(1),
        CloseTimeout = TimeSpan.FromSeconds(1),
        Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(300) },
    };

    /// <summary>Turns the proxy into a blackhole and returns how long the client took to report the session lost.</summary>
    private static async Task<TimeSpan> BlackholeAndWaitForTheLossAsync(BlackholeProxy proxy, ClientProbe probe)
    {
        proxy.Blackhole();
        var clock = Stopwatch.StartNew();
        await probe.WaitForDisconnectsAsync(1);
        return clock.Elapsed;
    }

    [Theory]
    [MemberData(nameof(KeepAlives))]
    public async Task KeepAlive_LinkBecomesABlackhole_LossIsReportedWithinIntervalPlusTimeoutAndTheClientReconnectsWhenItHeals(string keepAlive)
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = BlackholeProxy.Start(server.Port);
        await using var client = new ReconnectingWebSocket(Options(proxy, keepAlive));
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        await client.SendAsync("before");
        await probe.WaitUntilAsync(p => p.Texts.Contains("before"), "the echo before the blackhole");

        var detected = await BlackholeAndWaitForTheLossAsync(proxy, probe);

        Assert.Equal(DisconnectReason.KeepAliveTimeout, probe.Disconnects[0].Reason);
        Assert.True(detected <= Interval + Timeout + Margin, $"the dead link took {detected.TotalMilliseconds:F0} ms to detect");
        if (keepAlive == "client's")
        {
            Assert.Equal("Nothing arrived within 0.5 s of a ping (options.KeepAliveTimeout): the link is dead; the session was ended.", probe.Disconnects[0].Exception?.Message);
        }

        // While the link is dead, attempts time out instead of hanging.
        await probe.WaitUntilAsync(p => p.States.Any(s => s.Current == ConnectionState.Reconnecting && s.Exception is TimeoutException), "a connect attempt that timed out");
        proxy.Resume();
        await probe.WaitForConnectsAsync(2);
        await client.SendAsync("after");
        await probe.WaitUntilAsync(p => p.Texts.Contains("after"), "the echo after the link healed");
    }

    [Fact]
    public async Task Heartbeat_KeepAliveOff_BlackholeIsDetectedWithinIntervalPlusTimeout()
    {
        // What a net8 user relies on: no protocol keep-alive timeout, an application heartbeat instead.
        await using var server = await TestServer.StartAsync();
        await using var proxy = BlackholeProxy.Start(server.Port);
        var options = Options(proxy);
        options.KeepAliveInterval = TimeSpan.Zero;
        options.Heartbeat = new HeartbeatOptions
        {
            Interval = Interval,
            Timeout = Timeout,
            Message = "ping",
            IsReply = m => m.MessageType == System.Net.WebSockets.WebSocketMessageType.Text && m.Text == "ping", // /echo answers in kind
        };
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        var detected = await BlackholeAndWaitForTheLossAsync(proxy, probe);

        Assert.Equal(DisconnectReason.HeartbeatTimeout, probe.Disconnects[0].Reason);
        Assert.True(detected <= Interval + Timeout + Margin, $"the dead link took {detected.TotalMilliseconds:F0} ms to detect");
        Assert.Empty(probe.Messages);
        proxy.Resume();
        await probe.WaitForConnectsAsync(2);
    }

    [Theory]
    [MemberData(nameof(KeepAlives))]
    [MemberData(nameof(RuntimeKeepAlives))]
    public async Task KeepAlive_QuietButHealthyLink_IsNeverTornDown(string keepAlive)
    {
        await using var server = await TestServer.StartAsync(http2Only: keepAlive == "HTTP/2");
        await using var proxy = BlackholeProxy.Start(server.Port);
        var options = Options(proxy, keepAlive);
        options.InactivityTimeout = null;
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        long start = proxy.ChunksToServer;

        // Only pings cross the link: wait for six of them (three times interval + timeout), not for a fixed time.
        var pings = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Count()
        {
            if (proxy.ChunksToServer - start >= 6)
            {
                pings.TrySetResult();
            }
        }

        proxy.Forwarded += Count;
        await pings.Task.WaitAsync(ClientProbe.DefaultTimeout);
        proxy.Forwarded -= Count;

        Assert.Empty(probe.Disconnects);
        Assert.True(client.IsConnected);
        Assert.Single(probe.Connects);
    }

    [Theory]
    [MemberData(nameof(RuntimeKeepAlives))]
    public async Task RuntimeKeepAlive_KernelDropsEveryPacket_LossIsKeepAliveTimeoutWithinIntervalPlusTimeoutOnEveryRuntime(string keepAlive)
    {
        // No user-space proxy: the kernel drops the packets, so nothing written is acknowledged (a cable pulled, a NAT
        // that forgot the flow). net10: the runtime's pong timeout; net8 on Linux: the TCP user timeout the client sets.
        await using var server = await TestServer.StartAsync(http2Only: keepAlive == "HTTP/2");
        await using var client = new ReconnectingWebSocket(Options(server.Port, keepAlive));
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        await client.SendAsync("before");
        await probe.WaitUntilAsync(p => p.Texts.Contains("before"), "the echo before the blackhole");

        await using var blackhole = await KernelBlackhole.StartAsync(server.Port);
        var clock = Stopwatch.StartNew();
        await probe.WaitForDisconnectsAsync(1);
        var detected = clock.Elapsed;

        Assert.Equal(DisconnectReason.KeepAliveTimeout, probe.Disconnects[0].Reason);
        Assert.True(detected <= Interval + Timeout + Margin, $"the dead link took {detected.TotalMilliseconds:F0} ms to detect");
        if (Environment.Version.Major < 9)
        {
            Assert.Equal("Data written to the server went unacknowledged for 0.5 s (options.KeepAliveTimeout, enforced by the OS's TCP user timeout): the link is dead; the session was ended.", probe.Disconnects[0].Exception?.Message);
        }

        await blackhole.Resume();
        await probe.WaitForConnectsAsync(2);
        await client.SendAsync("after");
        await probe.WaitUntilAsync(p => p.Texts.Contains("after"), "the echo after the link healed");
    }
}
