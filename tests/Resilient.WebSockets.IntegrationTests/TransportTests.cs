using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>The default connector's coalescing path on a real ClientWebSocket, and its fallback.</summary>
public class TransportTests
{
    [Fact]
    public async Task DefaultConnector_RealClientWebSocket_OneWritePerFrameOnTheCoalescingPath()
    {
        await using var server = await TestServer.StartAsync();
        var connector = new ClientWebSocketConnector(new ReconnectingWebSocketOptions { Uri = server.Url("/echo") });

        var connected = await connector.ConnectAsync(server.Url("/echo"), CancellationToken.None);
        using var socket = connected.Socket;
        var coalescer = connected.Coalescer;

        Assert.NotNull(coalescer);
        long before = coalescer.InnerWrites;
        for (int i = 0; i < 10; i++)
        {
            await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        // If a runtime update ever splits or merges frame writes, coalescing must be revisited: this fails first.
        Assert.Equal(10, coalescer.InnerWrites - before);

        // Announced frames are held through the runtime's per-frame flushes, then leave in one write.
        before = coalescer.InnerWrites;
        for (int i = 0; i < 10; i++)
        {
            coalescer.BufferNextWrite();
            await socket.SendAsync(new byte[] { 4, 5, 6 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        Assert.Equal(0, coalescer.InnerWrites - before);
        await coalescer.FlushBatchAsync(CancellationToken.None);
        Assert.Equal(1, coalescer.InnerWrites - before);
    }

    [Theory]
    [InlineData("cookies")]
    [InlineData("credentials")]
    [InlineData("default credentials")]
    [InlineData("no proxy")]
    public async Task ConfigureWebSocket_SettingsTheRuntimeRefusesWithAnInvoker_MoveOntoTheHandlerAndKeepCoalescing(string setting)
    {
        await using var server = await TestServer.StartAsync();
        int configured = 0;
        var cookies = new System.Net.CookieContainer();
        cookies.Add(new System.Net.Cookie("session", "abc", "/", "127.0.0.1"));
        var options = new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/echo"),
            ConfigureWebSocket = o =>
            {
                Interlocked.Increment(ref configured);
                switch (setting)
                {
                    case "cookies":
                        o.Cookies = cookies;
                        break;
                    case "credentials":
                        o.Credentials = new System.Net.NetworkCredential("user", "secret");
                        break;
                    case "default credentials":
                        o.UseDefaultCredentials = true;
                        break;
                    default:
                        o.Proxy = null; // no proxy at all, not even the system's
                        break;
                }
            },
        };

        var connected = await new ClientWebSocketConnector(options).ConnectAsync(options.Uri, CancellationToken.None);
        connected.Socket.Dispose();
        Assert.NotNull(connected.Coalescer);
        Assert.True(connected.ClientKeepAlive);

        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        await client.SendAsync("through the client's handler");
        await probe.WaitUntilAsync(p => p.Texts.Contains("through the client's handler"), "the echo");

        // Exactly once per attempt (a one-time token must not be spent twice): one for the connector above, one here.
        Assert.Single(probe.Connects);
        Assert.Equal(2, Volatile.Read(ref configured));
        if (setting == "cookies")
        {
            Assert.All(server.Log.Handshakes, headers => Assert.Equal("session=abc", headers.Cookie.ToString()));
        }
    }

    [Theory]
    [InlineData("defaults", true, false)]
    [InlineData("the app's own keep-alive interval", false, true)]
    [InlineData("no pong timeout", false, false)]
    [InlineData("keep-alive off", false, false)]
    public async Task DefaultConnector_KeepAlive_TheClientTakesOverOnlyFromTheDefaults(string setting, bool client, bool runtimeOnNet9)
    {
        await using var server = await TestServer.StartAsync();
        var options = new ReconnectingWebSocketOptions { Uri = server.Url("/echo") };
        switch (setting)
        {
            case "the app's own keep-alive interval":
                options.ConfigureWebSocket = o => o.KeepAliveInterval = TimeSpan.FromSeconds(3);
                break;
            case "no pong timeout":
                options.KeepAliveTimeout = Timeout.InfiniteTimeSpan;
                break;
            case "keep-alive off":
                options.ConfigureWebSocket = o => o.KeepAliveInterval = TimeSpan.Zero;
                break;
        }

        var connected = await new ClientWebSocketConnector(options).ConnectAsync(server.Url("/echo"), CancellationToken.None);
        using var socket = (ClientWebSocket)connected.Socket;

        Assert.Equal(client, connected.ClientKeepAlive);
        Assert.Equal(runtimeOnNet9 && Environment.Version.Major >= 9, connected.KeepAliveTimesOut);
        if (client)
        {
            Assert.Equal(TimeSpan.Zero, socket.Options.KeepAliveInterval); // the runtime's pings are off: ours replace them
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DefaultConnector_PingOnTheCoalescingStream_IsAnsweredOverWsAndOverTls(bool tls)
    {
        // Over wss:// the coalescing stream must sit above TLS: a ping frame written below it would break the TLS stream.
        using var certificate = TestCertificate.SelfSigned();
        await using var server = await TestServer.StartAsync(certificate: tls ? certificate : null);
        var handler = ClientWebSocketConnector.CreateHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString();
        using var disposeHandler = handler;
        var connector = new ClientWebSocketConnector(new ReconnectingWebSocketOptions { Uri = server.Url("/echo") }, handler);

        var connected = await connector.ConnectAsync(server.Url("/echo"), CancellationToken.None);
        using var socket = connected.Socket;
        var coalescer = connected.Coalescer!;
        var buffer = new byte[64];
        var receive = socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask();
        long reads = coalescer.Reads;

        await coalescer.WritePingAsync();

        // The pong arrives (the runtime reads it, skips it and reads on), and the link still carries messages both ways.
        using var timeout = new CancellationTokenSource(ClientProbe.DefaultTimeout);
        while (coalescer.Reads == reads)
        {
            await Task.Delay(10, timeout.Token);
        }

        await socket.SendAsync("after the ping"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var result = await receive.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal("after the ping", System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count));
    }

    [Fact]
    public async Task CertificateCallbackAndClientCertificate_StayOnTheCoalescingPathAndPassThrough()
    {
        using var serverCertificate = TestCertificate.SelfSigned();
        using var clientCertificate = TestCertificate.SelfSignedClient();
        string pinned = serverCertificate.GetCertHashString(HashAlgorithmName.SHA256);
        await using var server = await TestServer.StartAsync(certificate: serverCertificate, requireClientCertificate: true);
        var appCertificates = new X509CertificateCollection { clientCertificate };
        var options = new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/client-certificate"),
            ConfigureWebSocket = o =>
            {
                o.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString(HashAlgorithmName.SHA256) == pinned;
                o.ClientCertificates = appCertificates;
            },
        };

        var connected = await new ClientWebSocketConnector(options).ConnectAsync(options.Uri, CancellationToken.None);
        using var socket = connected.Socket;

        Assert.NotNull(connected.Coalescer); // coalescing, and the client's own keep-alive, over wss:// with both settings
        Assert.True(connected.ClientKeepAlive);
        var buffer = new byte[128];
        var first = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(clientCertificate.GetCertHashString(HashAlgorithmName.SHA256), Encoding.UTF8.GetString(buffer, 0, first.Count));
        Assert.Same(clientCertificate, Assert.Single(appCertificates)); // the app's collection is left as it was
    }

    [Fact]
    public async Task CertificateCallback_ChangesBetweenAttempts_TheNewOneDecides()
    {
        using var certificate = TestCertificate.SelfSigned();
        await using var server = await TestServer.StartAsync(certificate: certificate);
        int attempt = 0;
        string pinned = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        RemoteCertificateValidationCallback accept = (_, cert, _, _) => cert is not null && cert.GetCertHashString(HashAlgorithmName.SHA256) == pinned;
        RemoteCertificateValidationCallback refuse = (_, _, _, _) => false;
        var options = new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/echo"),
            ConfigureWebSocket = o => o.RemoteCertificateValidationCallback = ++attempt == 2 ? refuse : accept,
        };
        var connector = new ClientWebSocketConnector(options);

        (await connector.ConnectAsync(options.Uri, CancellationToken.None)).Socket.Dispose();
        var refused = await Assert.ThrowsAsync<AuthenticationException>(async () => await connector.ConnectAsync(options.Uri, CancellationToken.None));
        (await connector.ConnectAsync(options.Uri, CancellationToken.None)).Socket.Dispose();

        Assert.Contains("was refused", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_ManyQueuedMessages_AreCoalescedAndAllArriveInOrder()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        await client.StartAsync();

        var sends = Enumerable.Range(0, 5_000).Select(i => client.SendAsync($"c{i}").AsTask()).ToList();
        await Task.WhenAll(sends).WaitAsync(ClientProbe.DefaultTimeout);
        await server.Log.WaitUntilAsync(l => l.Texts.Count >= 5_000, ClientProbe.DefaultTimeout, "5000 messages");

        Assert.Equal(Enumerable.Range(0, 5_000).Select(i => $"c{i}"), server.Log.Texts);
    }
}
