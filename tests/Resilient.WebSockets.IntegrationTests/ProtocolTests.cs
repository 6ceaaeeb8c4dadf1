using System.Net;
using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>HTTP/2 WebSockets (RFC 8441), sub-protocols and permessage-deflate, against Kestrel.</summary>
public class ProtocolTests
{
    [Fact]
    public async Task Http11_Default_ConnectedInfoSaysHttp11AndTheAgreedSubProtocol()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/echo"),
            ConfigureWebSocket = o => o.AddSubProtocol("chat.v2"),
        });
        using var probe = new ClientProbe(client);

        await client.StartAsync();

        var info = Assert.Single(probe.Connects);
        Assert.Equal(HttpVersion.Version11, info.HttpVersion);
        Assert.Equal("chat.v2", info.SubProtocol);
        Assert.EndsWith("on attempt 1 (sub-protocol chat.v2)", info.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http2_AskedFor_ConnectsOverHttp2EchoesAndReconnects()
    {
        await using var server = await TestServer.StartAsync(http2Only: true);
        var options = new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/echo"),
            ConfigureWebSocket = o =>
            {
                o.HttpVersion = HttpVersion.Version20;
                o.HttpVersionPolicy = System.Net.Http.HttpVersionPolicy.RequestVersionExact;
                o.AddSubProtocol("chat.v2");
            },
        };
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);

        await client.StartAsync();
        await client.SendAsync("one");
        await probe.WaitUntilAsync(p => p.Texts.Contains("one"), "the echo over HTTP/2");
        await client.ReconnectAsync(); // a close handshake on the HTTP/2 stream, then a new stream
        await probe.WaitForConnectsAsync(2);
        await client.SendAsync("two");
        await probe.WaitUntilAsync(p => p.Texts.Contains("two"), "the echo after the reconnect");

        Assert.All(probe.Connects, info => Assert.Equal(HttpVersion.Version20, info.HttpVersion));

        // No coalescing and no ping of ours inside HTTP/2's own framing: the runtime's keep-alive stays on.
        var connected = await new ClientWebSocketConnector(options).ConnectAsync(server.Url("/echo"), CancellationToken.None);
        connected.Socket.Dispose();
        Assert.Null(connected.Coalescer);
        Assert.False(connected.ClientKeepAlive);
        Assert.Equal(Environment.Version.Major >= 9, connected.KeepAliveTimesOut);
        Assert.Equal(Environment.Version.Major >= 9 ? null : options.KeepAliveTimeout, connected.TcpUserTimeout); // net8: the OS bounds unacknowledged data
        Assert.Equal("chat.v2", probe.Connects[1].SubProtocol);
        Assert.Contains(" over HTTP/2 (sub-protocol chat.v2)", probe.Connects[1].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deflate_OnTheCoalescingPath_BurstsAndPingsArriveIntact()
    {
        await using var server = await TestServer.StartAsync();
        var options = new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/echo"),
            KeepAliveInterval = TimeSpan.FromMilliseconds(50),
            KeepAliveTimeout = TimeSpan.FromSeconds(5),
            ConfigureWebSocket = o => o.DangerousDeflateOptions = new WebSocketDeflateOptions(),
        };
        var connected = await new ClientWebSocketConnector(options).ConnectAsync(options.Uri, CancellationToken.None);
        connected.Socket.Dispose();
        Assert.NotNull(connected.Coalescer); // compression does not leave the coalescing path
        Assert.True(connected.ClientKeepAlive);

        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        var random = new Random(42);
        var sent = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            // Small and large, compressible and not, queued without waiting, so frames leave in batches.
            int size = i % 50 == 0 ? 100_000 : random.Next(1, 2_000);
            string text = i % 2 == 0 ? new string((char)('a' + (i % 26)), size) : RandomText(random, size);
            sent.Add(text);
            Assert.True(client.TryEnqueue(text));
            if (i % 100 == 0)
            {
                await Task.Delay(120); // a ping or two between the batches
            }
        }

        await probe.WaitUntilAsync(p => p.Texts.Count >= sent.Count, "every echo");

        Assert.Equal(sent, probe.Texts);
        Assert.Empty(probe.Disconnects);
        Assert.Equal(sent, server.Log.Texts);
    }

    private static string RandomText(Random random, int size)
    {
        var builder = new StringBuilder(size);
        for (int i = 0; i < size; i++)
        {
            builder.Append((char)random.Next(0x20, 0x7F));
        }

        return builder.ToString();
    }
}
