using System.Diagnostics;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>The operating system's own network-change events (not the unit tests' fake), end to end: a loopback address
/// that comes and goes (eng/network-change.sh) is an address change, and the client checks its link at once.</summary>
/// <remarks>The OS's event reaches every client in the process, so these run alone: a check in another test (one whose
/// server pauses on purpose, or that counts frames) would disturb it.</remarks>
[Collection(nameof(NetworkChangeTests))]
[CollectionDefinition(nameof(NetworkChangeTests), DisableParallelization = true)]
public class NetworkChangeTests
{
    /// <summary>Long enough that the next keep-alive could not be what finds the dead link within the test's wait.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan CheckDeadline = TimeSpan.FromSeconds(1);

    private static ReconnectingWebSocketOptions Options(BlackholeProxy proxy, bool watch) => new()
    {
        Uri = new Uri($"ws://127.0.0.1:{proxy.Port}/echo"),
        KeepAliveInterval = Interval,
        KeepAliveTimeout = CheckDeadline, // also the deadline of a check after a network change (under 5 s)
        WatchNetworkChanges = watch,
        CloseTimeout = TimeSpan.FromSeconds(1),
        Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(300) },
    };

    private static Task<string> NetworkChangeAsync() =>
        EngScript.RunAsync("network-change.sh", Random.Shared.Next(65536).ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task AddressChangeReportedByTheOS_OnADeadLink_TheClientChecksAtOnceAndReportsKeepAliveTimeout()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = BlackholeProxy.Start(server.Port);
        await using var client = new ReconnectingWebSocket(Options(proxy, watch: true));
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        await client.SendAsync("before");
        await probe.WaitUntilAsync(p => p.Texts.Contains("before"), "the echo before the blackhole");

        proxy.Blackhole();
        var clock = Stopwatch.StartNew();
        await NetworkChangeAsync();
        await probe.WaitForDisconnectsAsync(1);

        Assert.Equal(DisconnectReason.KeepAliveTimeout, probe.Disconnects[0].Reason);
        Assert.True(clock.Elapsed < Interval / 4, $"the check took {clock.Elapsed.TotalSeconds:F1} s");
        proxy.Resume();
        await probe.WaitForConnectsAsync(2);
    }

    [Fact]
    public async Task AddressChangeReportedByTheOS_OnAHealthyLink_TheCheckPassesAndTheSessionStays()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = BlackholeProxy.Start(server.Port);
        await using var client = new ReconnectingWebSocket(Options(proxy, watch: true));
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        long before = proxy.ChunksToServer;

        await NetworkChangeAsync();

        // The check's ping crosses the link, and its pong comes back within the deadline; then one more echo, after it.
        await probe.WaitUntilAsync(_ => proxy.ChunksToServer > before, "the check's ping");
        await Task.Delay(CheckDeadline * 2, TimeProvider.System); // a failed check would have ended the session by now
        await client.SendAsync("after");
        await probe.WaitUntilAsync(p => p.Texts.Contains("after"), "the echo after the check");
        Assert.Empty(probe.Disconnects);
        Assert.Single(probe.Connects);
    }
}
