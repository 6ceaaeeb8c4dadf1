namespace Resilient.WebSockets.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback port whose packets the kernel drops, both ways (eng/loopback-blackhole.sh, iptables): a connection to it
/// goes half-open with nothing acknowledged, which a user-space proxy cannot do (its kernel acknowledges everything).
/// Only this port is touched, and the rules are removed on <see cref="Resume"/> and on dispose.
/// </summary>
internal sealed class KernelBlackhole : IAsyncDisposable
{
    private readonly int _port;

    private KernelBlackhole(int port) => _port = port;

    public static async Task<KernelBlackhole> StartAsync(int port)
    {
        var blackhole = new KernelBlackhole(port);
        await EngScript.RunAsync("loopback-blackhole.sh", "on", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return blackhole;
    }

    public Task Resume() => EngScript.RunAsync("loopback-blackhole.sh", "off", _port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async ValueTask DisposeAsync() => await Resume();
}
