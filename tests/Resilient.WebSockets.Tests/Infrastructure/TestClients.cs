namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>Clients on the in-memory connector and a fake clock, with short, jitter-free delays.</summary>
public static class TestClients
{
    public static ReconnectingWebSocket Create(InMemoryConnector connector, TestTimeProvider time, Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var options = new ReconnectingWebSocketOptions
        {
            Uri = new Uri("ws://example.test/socket"),
            Connector = connector,
            TimeProvider = time,
            ConnectTimeout = TimeSpan.FromSeconds(7),
            CloseTimeout = TimeSpan.FromSeconds(3),
            Reconnect = { UseJitter = false, InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(8), MinUptime = TimeSpan.FromSeconds(10) },
        };
        configure?.Invoke(options);
        return new ReconnectingWebSocket(options);
    }
}
