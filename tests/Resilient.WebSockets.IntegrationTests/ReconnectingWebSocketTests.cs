using System.Net;
using System.Net.WebSockets;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>The client against a real Kestrel server on 127.0.0.1, with a real ClientWebSocket.</summary>
public class ReconnectingWebSocketTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    private static ReconnectingWebSocketOptions Fast(Uri uri) => new()
    {
        Uri = uri,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        CloseTimeout = TimeSpan.FromSeconds(2),
        Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) },
    };

    [Fact]
    public async Task SendAsync_Echo_ReceivesTheReply()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        using var probe = new ClientProbe(client);

        await client.StartAsync();
        await client.SendAsync("hello");
        await client.SendAsync(new byte[] { 1, 2, 3 });
        await probe.WaitForMessagesAsync(2);

        Assert.Equal("hello", probe.Messages[0].Text);
        Assert.Equal(WebSocketMessageType.Binary, probe.Messages[1].MessageType);
        Assert.Equal(new byte[] { 1, 2, 3 }, probe.Messages[1].Data.ToArray());
        Assert.True(client.IsConnected);
        Assert.Equal(0, client.PendingSendCount);
    }

    [Fact]
    public async Task Messages_ServerPushesMany_AllArriveInOrder()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/push?n=2000&size=100"));
        using var probe = new ClientProbe(client);

        await client.StartAsync();
        await probe.WaitForMessagesAsync(2000);

        var numbers = probe.Texts.Select(t => int.Parse(t.TrimEnd('.'), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(0, 2000), numbers);
        Assert.All(probe.Texts, t => Assert.Equal(100, t.Length));
    }

    [Fact]
    public async Task Client_FiveServerRestartsInARow_ReconnectsEachTimeAndKeepsReceiving()
    {
        var log = new ServerLog();
        var server = await TestServer.StartAsync(log: log);
        int port = server.Port;
        await using var client = new ReconnectingWebSocket(Fast(server.Url("/echo")));
        using var probe = new ClientProbe(client);
        try
        {
            await client.StartAsync();
            for (int restart = 1; restart <= 5; restart++)
            {
                await server.DisposeAsync();
                await probe.WaitForDisconnectsAsync(restart);
                server = await TestServer.StartAsync(port, log);
                await probe.WaitForConnectsAsync(restart + 1);

                await client.SendAsync($"after restart {restart}");
                await probe.WaitUntilAsync(p => p.Texts.Contains($"after restart {restart}"), $"the echo after restart {restart}");
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.All(probe.Disconnects, d => Assert.Equal(DisconnectReason.ConnectionLost, d.Reason));
        Assert.Equal(6, probe.Connects.Count);
        Assert.All(probe.Connects.Skip(1), c => Assert.True(c.IsReconnect));
        Assert.All(probe.Connects.Skip(1), c => Assert.True(c.Downtime > TimeSpan.Zero));
    }

    [Fact]
    public async Task SendAsync_ThousandMessagesWhileServerIsDown_AllArriveInOrderOnceItIsBack()
    {
        var log = new ServerLog();
        var server = await TestServer.StartAsync(log: log);
        int port = server.Port;
        await using var client = new ReconnectingWebSocket(Fast(server.Url("/echo")));
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await server.DisposeAsync();
        await probe.WaitForDisconnectsAsync(1);
        var sends = Enumerable.Range(0, 1000).Select(i => client.SendAsync($"m{i}").AsTask()).ToList();
        Assert.False(client.IsConnected);
        Assert.Equal(1000, client.PendingSendCount);
        Assert.All(sends, s => Assert.False(s.IsCompleted));

        await using (await TestServer.StartAsync(port, log))
        {
            await Task.WhenAll(sends).WaitAsync(ClientProbe.DefaultTimeout);
            await log.WaitUntilAsync(l => l.Texts.Count >= 1000, ClientProbe.DefaultTimeout, "1000 messages");
        }

        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"m{i}"), log.Texts);
        Assert.Equal(0, client.PendingSendCount);
    }

    [Fact]
    public async Task StopAsync_Connected_SendsACloseFrameTheServerSees()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await client.StopAsync(WebSocketCloseStatus.EndpointUnavailable, "going away");

        await server.Log.WaitUntilAsync(l => l.Closes.Count == 1, Prompt, "a close frame");
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "going away"), server.Log.Closes.Single());
        Assert.Equal(ConnectionState.Stopped, client.State);
        var ended = Assert.Single(probe.Disconnects);
        Assert.Equal(DisconnectReason.Stopped, ended.Reason);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ended.CloseStatus);
    }

    [Fact]
    public async Task StopAsync_WithQueuedMessages_WritesThemBeforeTheCloseFrame()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        await client.StartAsync();
        for (int i = 0; i < 500; i++)
        {
            Assert.True(client.TryEnqueue($"q{i}"));
        }

        await client.StopAsync();

        await server.Log.WaitUntilAsync(l => l.Closes.Count == 1, Prompt, "a close frame");
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"q{i}"), server.Log.Texts);
        Assert.Equal(0, client.PendingSendCount);
    }

    [Fact]
    public async Task StartAsync_AfterStop_ConnectsAgain()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        using var probe = new ClientProbe(client);

        await client.StartAsync();
        await client.StopAsync();
        await client.StartAsync();
        await client.SendAsync("again");
        await probe.WaitUntilAsync(p => p.Texts.Contains("again"), "the echo");

        Assert.Equal(2, server.Log.Connections);
        Assert.False(probe.Connects[1].IsReconnect);
    }

    [Fact]
    public async Task DisposeAsync_DuringReconnectBackoff_ReturnsPromptlyAndLeavesNothingRunning()
    {
        var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/echo"));
        options.Reconnect.InitialDelay = TimeSpan.FromMinutes(10);
        options.Reconnect.MaxDelay = TimeSpan.FromMinutes(10);
        var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        await server.DisposeAsync();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);

        await client.DisposeAsync().AsTask().WaitAsync(Prompt);

        Assert.Equal(ConnectionState.Stopped, client.State);
        Assert.True(probe.MessagesCompleted);
        Assert.True(probe.StatesCompleted);
        Assert.Equal(DisconnectReason.Disposed, probe.States[^1].Reason);
        Assert.False(client.TryEnqueue("late"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendAsync("late").AsTask());
    }

    [Fact]
    public async Task Client_ServerAbortsTcp_ReportsConnectionLostAndReconnects()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(Fast(server.Url("/abort?after=2")));
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await client.SendAsync("one");
        await client.SendAsync("two");
        await probe.WaitForConnectsAsync(2);

        var lost = probe.Disconnects[0];
        Assert.Equal(DisconnectReason.ConnectionLost, lost.Reason);
        Assert.Null(lost.CloseStatus);
        Assert.NotNull(lost.Exception);
        Assert.Equal(new[] { "one", "two" }, server.Log.Texts);
    }

    [Fact]
    public async Task Client_ServerClosesWithStatus_ReportsItsCodeAndReasonAndReconnects()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(Fast(server.Url("/close?status=1012&reason=restarting")));
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await probe.WaitForConnectsAsync(2);

        var closed = probe.Disconnects[0];
        Assert.Equal(DisconnectReason.ClosedByServer, closed.Reason);
        Assert.Equal((WebSocketCloseStatus)1012, closed.CloseStatus);
        Assert.Equal("restarting", closed.CloseStatusDescription);
        Assert.Contains(probe.States, s => s.Current == ConnectionState.Reconnecting && s.Reason == DisconnectReason.ClosedByServer);
    }

    [Fact]
    public async Task StartAsync_HandshakeAnswered401_ThrowsWithoutRetrying()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(Fast(server.Url("/status/401")));
        using var probe = new ClientProbe(client);

        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => client.StartAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, error.HttpStatusCode);
        Assert.True(error.IsAuthenticationFailure);
        Assert.IsType<WebSocketException>(error.InnerException);
        Assert.Equal(1, probe.StateSequence.Count(s => s == ConnectionState.Connecting));
        Assert.Equal(ConnectionState.Stopped, client.State);
        Assert.Same(error, probe.States[^1].Exception);
    }

    [Fact]
    public async Task StartAsync_HandshakeAnswered401WithRetryOptIn_RetriesUntilMaxAttempts()
    {
        await using var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/status/401"));
        options.Reconnect.RetryOnAuthenticationFailure = true;
        options.Reconnect.MaxAttempts = 3;
        int configured = 0;
        options.ConfigureWebSocket = _ => Interlocked.Increment(ref configured);
        await using var client = new ReconnectingWebSocket(options);

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => client.StartAsync());

        Assert.Equal(3, configured);
    }

    [Fact]
    public async Task StartAsync_HandshakeAnswered500_RetriesThenThrowsTheLastError()
    {
        await using var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/status/500"));
        options.Reconnect.MaxAttempts = 4;
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);

        var error = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => client.StartAsync());

        Assert.Equal(HttpStatusCode.InternalServerError, error.HttpStatusCode);
        Assert.Equal(4, probe.StateSequence.Count(s => s == ConnectionState.Connecting));
        Assert.Equal(4, probe.States.Count(s => s.Current == ConnectionState.Reconnecting && s.Exception is WebSocketHandshakeException));
        Assert.Empty(probe.Disconnects);
        Assert.Equal(ConnectionState.Stopped, client.State);
    }

    [Fact]
    public async Task Messages_LargerThanMaxMessageSize_ClosesWith1009AndReconnects()
    {
        await using var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/big?size=70000"));
        options.MaxMessageSize = 65536;
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await probe.WaitForConnectsAsync(2);

        var ended = probe.Disconnects[0];
        Assert.Equal(DisconnectReason.MessageTooLarge, ended.Reason);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ended.CloseStatus);
        Assert.Empty(probe.Messages);
        await server.Log.WaitUntilAsync(l => l.Closes.Count > 0, Prompt, "the 1009 close");
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, server.Log.Closes.First().Status);
    }

    [Fact]
    public async Task ConfigureWebSocket_RunsBeforeEveryAttempt_FreshHeadersEachTime()
    {
        await using var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/close?status=1001"));
        int attempt = 0;
        options.ConfigureWebSocket = o => o.SetRequestHeader("X-Token", $"token-{Interlocked.Increment(ref attempt)}");
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await probe.WaitForConnectsAsync(3);

        var tokens = server.Log.Handshakes.Take(3).Select(h => h["X-Token"].ToString());
        Assert.Equal(new[] { "token-1", "token-2", "token-3" }, tokens);
    }

    [Fact]
    public async Task UriFactory_PicksTheEndpointPerAttempt()
    {
        await using var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/never-used"));
        int calls = 0;
        options.UriFactory = _ => ValueTask.FromResult(Interlocked.Increment(ref calls) == 1
            ? server.Url("/close?status=1000")
            : server.Url("/echo"));
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await probe.WaitForConnectsAsync(2);

        Assert.EndsWith("/close?status=1000", probe.Connects[0].Uri.PathAndQuery);
        Assert.Equal("/echo", probe.Connects[1].Uri.PathAndQuery);
    }

    [Fact]
    public async Task OnConnected_SendsBeforeQueuedMessagesOnEverySession()
    {
        await using var server = await TestServer.StartAsync();
        var options = Fast(server.Url("/abort?after=2"));
        options.OnConnected = (context, token) => context.SendAsync($"hello #{context.Info.Attempt} reconnect={context.Info.IsReconnect}", token);
        await using var client = new ReconnectingWebSocket(options);
        using var probe = new ClientProbe(client);
        Assert.True(client.TryEnqueue("queued before start"));

        await client.StartAsync();
        await probe.WaitForConnectsAsync(2);

        var texts = server.Log.Texts.ToList();
        Assert.Equal("hello #1 reconnect=False", texts[0]);
        Assert.Equal("queued before start", texts[1]);
        await server.Log.WaitUntilAsync(l => l.Texts.Contains("hello #1 reconnect=True"), Prompt, "the hook's message on the second session");
    }

    [Fact]
    public async Task SendAsync_ManyThreadsAtOnce_EveryMessageArrivesInEachThreadsOrder()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        await client.StartAsync();

        const int Threads = 8, PerThread = 250;
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                await client.SendAsync($"{t}:{i}");
            }
        })));
        await server.Log.WaitUntilAsync(l => l.Texts.Count >= Threads * PerThread, ClientProbe.DefaultTimeout, "every message");

        var byThread = server.Log.Texts.Select(s => s.Split(':')).GroupBy(p => p[0]);
        Assert.Equal(Threads, byThread.Count());
        Assert.All(byThread, g => Assert.Equal(Enumerable.Range(0, PerThread), g.Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Fact]
    public async Task ReconnectAsync_Connected_ClosesAndOpensANewSession()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        using var probe = new ClientProbe(client);
        await client.StartAsync();

        await client.ReconnectAsync().WaitAsync(Prompt);

        Assert.True(client.IsConnected);
        Assert.Equal(2, probe.Connects.Count);
        Assert.Equal(DisconnectReason.ReconnectRequested, probe.Disconnects.Single().Reason);
        await server.Log.WaitUntilAsync(l => l.Closes.Count == 1, Prompt, "the reconnect's close frame");
    }
}
