using System.Net;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>Through a real HTTP proxy (tinyproxy), as corporate networks have them.</summary>
public class ProxyTests
{
    private static ReconnectingWebSocketOptions Options(Uri uri, TinyProxy proxy, ICredentials? credentials = null) => new()
    {
        Uri = uri,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
        ConfigureWebSocket = o => o.Proxy = new WebProxy(proxy.Address) { Credentials = credentials },
    };

    [Fact]
    public async Task Proxy_Configured_EchoesThroughItOnTheCoalescingPathAndReconnectsAfterItRestarts()
    {
        await using var server = await TestServer.StartAsync();
        var proxy = await TinyProxy.StartAsync();
        int port = proxy.Port;
        var options = Options(server.Url("/echo"), proxy);
        try
        {
            var connected = await new ClientWebSocketConnector(options).ConnectAsync(options.Uri!, CancellationToken.None);
            connected.Socket.Dispose();
            Assert.NotNull(connected.Coalescer); // a proxy no longer costs the coalescing path or the client's keep-alive
            Assert.True(connected.ClientKeepAlive);

            await using var client = new ReconnectingWebSocket(options);
            using var probe = new ClientProbe(client);
            await client.StartAsync();
            await client.SendAsync("via the proxy");
            await probe.WaitUntilAsync(p => p.Texts.Contains("via the proxy"), "the echo through the proxy");

            // The proxy dies: the tunnel drops, and no attempt gets through while it is down.
            await proxy.DisposeAsync();
            await probe.WaitForDisconnectsAsync(1);
            await probe.WaitUntilAsync(p => p.States.Count(s => s.Current == ConnectionState.Reconnecting && s.Exception is not null) >= 2, "two failed attempts while the proxy is down");

            // It comes back on the same port: the client reconnects through it.
            proxy = await TinyProxy.StartAsync(port);
            await probe.WaitForConnectsAsync(2);
            await client.SendAsync("via the restarted proxy");
            await probe.WaitUntilAsync(p => p.Texts.Contains("via the restarted proxy"), "the echo through the restarted proxy");
            Assert.Equal(2, server.Log.Connections - 1); // the connector's own check above, then one per session
        }
        finally
        {
            await proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task Proxy_WithCredentials_Connects()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await TinyProxy.StartAsync(basicAuth: ("alice", "s3cret"));
        await using var client = new ReconnectingWebSocket(Options(server.Url("/echo"), proxy, new NetworkCredential("alice", "s3cret")));
        using var probe = new ClientProbe(client);

        await client.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await client.SendAsync("authenticated");

        await probe.WaitUntilAsync(p => p.Texts.Contains("authenticated"), "the echo through the authenticating proxy");
    }

    [Fact]
    public async Task Proxy_Answers407_IsAClearErrorThatSaysSo()
    {
        await using var server = await TestServer.StartAsync();
        await using var proxy = await TinyProxy.StartAsync(basicAuth: ("alice", "s3cret"));
        await using var client = new ReconnectingWebSocket(Options(server.Url("/echo?token=SECRET"), proxy));
        using var probe = new ClientProbe(client);

        // Like a 401 from the server: not retried, and StartAsync says why in one line.
        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => client.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, error.HttpStatusCode);
        Assert.StartsWith($"The proxy refused to open a tunnel to ws://127.0.0.1:{server.Port}/echo with HTTP status 407 (ProxyAuthenticationRequired). Not retried", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.ToString(), StringComparison.Ordinal);
        await probe.WaitForStateAsync(ConnectionState.Stopped);
        Assert.Single(probe.States, s => s.Current == ConnectionState.Connecting);
    }
}
