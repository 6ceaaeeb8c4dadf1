using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>Clients on the in-memory connector and a fake clock, with short, jitter-free delays.</summary>
internal static class TestClients
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(7);

    public static ReconnectingWebSocket Create(IWebSocketConnector connector, TestTimeProvider time, Action<ReconnectingWebSocketOptions>? configure = null, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        var options = new ReconnectingWebSocketOptions
        {
            Uri = new Uri("ws://example.test/socket"),
            Connector = connector,
            TimeProvider = time,
            ConnectTimeout = ConnectTimeout,
            CloseTimeout = TimeSpan.FromSeconds(3),
            Reconnect = { UseJitter = false, InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(8), MinUptime = TimeSpan.FromSeconds(10) },
        };
        configure?.Invoke(options);
        return new ReconnectingWebSocket(options, loggers);
    }

    /// <summary>An observer that signals <paramref name="entered"/> and then blocks until <paramref name="release"/>.</summary>
    public static IDisposable SubscribeSlowObserver(ReconnectingWebSocket sut, ManualResetEventSlim entered, ManualResetEventSlim release) =>
        sut.Messages.Subscribe(new Recorder<WebSocketMessage>(_ =>
        {
            entered.Set();
            release.Wait(ClientProbe.DefaultTimeout);
        }));
}
