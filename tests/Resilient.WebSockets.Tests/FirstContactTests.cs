using System.Net;
using System.Net.WebSockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests;

/// <summary>What a person sees when something goes wrong: the cause and what comes next, on StateChanges, in
/// ToString() and in the log; permanent failures stop at once; planned restarts come back quickly.</summary>
public class FirstContactTests
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null, ILoggerFactory? loggers = null) =>
        TestClients.Create(_connector, _time, options =>
        {
            options.Uri = new Uri("ws://example.test/socket?token=SECRET");
            options.Name = "feed";
            configure?.Invoke(options);
        }, loggers);

    private static Func<int, CancellationToken, Task<Exception?>> Fail(Func<int, Exception?> byAttempt) =>
        (attempt, _) => Task.FromResult(byAttempt(attempt));

    private static IEnumerable<ConnectionStateChange> Reconnecting(ClientProbe probe) =>
        probe.States.Where(s => s.Current == ConnectionState.Reconnecting);

    [Fact]
    public async Task FailedAttempts_SayWhyAndWhenTheNextComes_AndTheLastSaysNoneFollows()
    {
        _connector.Script = Fail(attempt => new WebSocketException($"refused {attempt} (test)"));
        using var sut = CreateSut(o => o.Reconnect.MaxAttempts = 3);
        using var probe = new ClientProbe(sut);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(OneSecond);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<WebSocketException>(() => start.WaitAsync(ClientProbe.DefaultTimeout));
        await probe.WaitForStateAsync(ConnectionState.Stopped);

        var failed = Reconnecting(probe).ToList();
        Assert.Equal(3, failed.Count);
        Assert.All(failed, f => Assert.Equal(DisconnectReason.ConnectFailed, f.Reason));
        Assert.Equal([OneSecond, TimeSpan.FromSeconds(2), null], failed.Select(f => f.NextAttemptIn));
        Assert.Equal("Reconnecting in 1.0 s (connect failed): refused 1 (test)", failed[0].ToString());
        Assert.Equal("Reconnecting (connect failed): refused 3 (test)", failed[2].ToString());
    }

    [Fact]
    public async Task ALostSession_SaysWhenTheNextAttemptComes()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        (await _connector.AcceptAsync()).Kill();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);

        var lost = Assert.Single(Reconnecting(probe));
        Assert.Equal(DisconnectReason.ConnectionLost, lost.Reason);
        Assert.Equal(OneSecond, lost.NextAttemptIn);
        Assert.StartsWith("Reconnecting in 1.0 s (connection lost): ", lost.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1012)]
    [InlineData(1001)]
    [InlineData(1013)]
    public async Task PlannedRestart_ComesBackAfterTheShortDelay_AndFlappingRestartsGrowTheBackoff(int closeCode)
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        for (int restart = 1; restart <= 3; restart++)
        {
            var server = await _connector.AcceptAsync();
            server.StartAnsweringCloses();
            await server.Socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, "restart", CancellationToken.None);
            await probe.WaitForStateAsync(ConnectionState.Reconnecting, restart);
            await _time.AdvanceWhenWaitingAsync(Reconnecting(probe).Last().NextAttemptIn!.Value);
            await probe.WaitForConnectsAsync(restart + 1);
        }

        // The first restart comes back at once (its session was short, but it was the first); restarts on every
        // short session after it are flapping: the backoff resumes from its first step.
        Assert.Equal([OneSecond, OneSecond, TimeSpan.FromSeconds(2)], Reconnecting(probe).Select(r => r.NextAttemptIn));
    }

    [Fact]
    public async Task ShortSessionsLostWithoutAPlannedClose_StillGrowTheDelay()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        (await _connector.AcceptAsync()).Kill();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);
        await _time.AdvanceWhenWaitingAsync(OneSecond);
        (await _connector.AcceptAsync()).Kill();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting, 2);

        Assert.Equal([OneSecond, TimeSpan.FromSeconds(2)], Reconnecting(probe).Select(r => r.NextAttemptIn));
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(100, 8)] // bounded by MaxDelay
    public async Task Handshake503_WithRetryAfter_WaitsWhatTheServerAsked(int retryAfterSeconds, int expectedSeconds)
    {
        _connector.Script = Fail(attempt => attempt == 1
            ? new WebSocketHandshakeException(HttpStatusCode.ServiceUnavailable, null) { RetryAfter = TimeSpan.FromSeconds(retryAfterSeconds) }
            : null);
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(expectedSeconds));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Assert.Single(Reconnecting(probe)).NextAttemptIn);
    }

    [Fact]
    public async Task ShouldRetry_TheAppsPredicateDecides()
    {
        _connector.Script = Fail(_ => new InvalidOperationException("the app says: permanent"));
        using var sut = CreateSut(o => o.Reconnect.ShouldRetry = ex => ex is not InvalidOperationException);
        using var probe = new ClientProbe(sut);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Equal("the app says: permanent", error.Message);
        Assert.Equal(1, _connector.Attempts);
        Assert.Null(Assert.Single(Reconnecting(probe)).NextAttemptIn);
    }

    [Fact]
    public async Task ShouldRetry_IsAskedOncePerFailedAttempt_AlsoWhenItSaysNo()
    {
        _connector.Script = Fail(_ => new InvalidOperationException("permanent"));
        int asked = 0;
        using var sut = CreateSut(o => o.Reconnect.ShouldRetry = _ =>
        {
            Interlocked.Increment(ref asked);
            return false;
        });

        await Assert.ThrowsAsync<InvalidOperationException>(() => sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Equal(1, asked); // the log line says why from the policy's decision; it does not ask the app again
    }

    [Fact]
    public async Task ShouldRetry_APredicateThatThrows_StopsTheClientWithTheAttemptsError()
    {
        _connector.Script = Fail(_ => new WebSocketException("refused (test)"));
        using var sut = CreateSut(o => o.Reconnect.ShouldRetry = _ => throw new FormatException("bug in the predicate"));

        await Assert.ThrowsAsync<WebSocketException>(() => sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Equal(1, _connector.Attempts);
    }

    [Theory]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(407, false)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public void DefaultShouldRetry_Handshakes(int status, bool expected) =>
        Assert.Equal(expected, ReconnectOptions.DefaultShouldRetry(new WebSocketHandshakeException((HttpStatusCode)status, null)));

    [Fact]
    public void DefaultShouldRetry_ARefusedCertificateIsPermanent_ATlsHandshakeCutByTheNetworkIsNot()
    {
        var refused = new AuthenticationException("The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot");
        var cut = new AuthenticationException("Authentication failed because the remote party has closed the transport stream.", new IOException("reset"));

        Assert.False(ReconnectOptions.DefaultShouldRetry(refused));
        Assert.False(ReconnectOptions.DefaultShouldRetry(new WebSocketException("Unable to connect to the remote server", new HttpRequestException("SSL", refused))));
        Assert.True(ReconnectOptions.DefaultShouldRetry(new WebSocketException("Unable to connect to the remote server", new HttpRequestException("SSL", cut))));
        Assert.True(ReconnectOptions.DefaultShouldRetry(new IOException("reset")));
        Assert.True(ReconnectOptions.DefaultShouldRetry(new TimeoutException()));
        Assert.False(ReconnectOptions.DefaultShouldRetry(new ArgumentException("bad URI")));
        Assert.Throws<ArgumentNullException>(() => ReconnectOptions.DefaultShouldRetry(null!));
    }

    [Fact]
    public async Task StartAsync_CancelledAfterFailures_CarriesTheLastAttemptsError()
    {
        _connector.Script = Fail(_ => new WebSocketException("Connection refused (127.0.0.1:5000)"));
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        using var cancel = new CancellationTokenSource();

        var start = sut.StartAsync(cancel.Token);
        await _time.WaitForTimerAsync(OneSecond);
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.IsType<WebSocketException>(error.InnerException);
        Assert.Equal("StartAsync was cancelled before the first connection was made. The last attempt failed: Connection refused (127.0.0.1:5000)", error.Message);
    }

    [Fact]
    public async Task Log_AConnectARefusedAttemptADropAndAReconnect_OneReadableLineEach()
    {
        using var loggers = new CapturingLoggerFactory();
        _connector.AnswerCloses = true;
        _connector.Script = Fail(attempt => attempt == 2 ? new WebSocketException("Connection refused (127.0.0.1:5000)") : null);
        using var sut = CreateSut(loggers: loggers);
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        (await _connector.AcceptAsync()).Kill();
        await _time.AdvanceWhenWaitingAsync(OneSecond);  // the wait after the loss, then attempt 2 is refused
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(2));
        await probe.WaitForConnectsAsync(2);
        await sut.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await probe.WaitForStateAsync(ConnectionState.Stopped);

        var important = loggers.Lines.Where(l => l.Level >= LogLevel.Information).Select(l => $"{l.Level}: {l.Message}").ToList();
        Assert.Collection(
            important,
            line => Assert.Equal("Information: feed: connected to ws://example.test/socket on attempt 1.", line),
            line => Assert.Equal("Warning: feed: Session ended (connection lost): The remote party closed the WebSocket connection without completing the close handshake: Connection reset by the in-memory server. Next attempt in 1.0 s.", line),
            line => Assert.Equal("Warning: feed: connect attempt 1 to ws://example.test/socket failed: Connection refused (127.0.0.1:5000). Next attempt in 2.0 s.", line),
            line => Assert.Equal("Information: feed: reconnected to ws://example.test/socket on attempt 2 after 3.0 s down.", line),
            line => Assert.Equal("Information: feed: Session ended (stopped, close 1000). Not reconnecting.", line));
        Assert.All(loggers.Lines.Where(l => l.Level >= LogLevel.Information), l => Assert.Null(l.Exception)); // stack traces only at Debug
        Assert.Contains(loggers.Lines, l => l.Level == LogLevel.Debug && l.Exception is WebSocketException);
        Assert.All(loggers.Lines, l => Assert.DoesNotContain("(null)", l.Message, StringComparison.Ordinal));
        Assert.All(loggers.Lines, l => Assert.DoesNotContain("00:00:", l.Message, StringComparison.Ordinal));
        Assert.All(loggers.Lines, l => Assert.DoesNotContain("SECRET", l.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Log_ARefusedHandshake_IsOneEntry()
    {
        using var loggers = new CapturingLoggerFactory();
        _connector.Script = Fail(_ => new WebSocketHandshakeException(HttpStatusCode.Unauthorized, null));
        using var sut = CreateSut(loggers: loggers);

        await Assert.ThrowsAsync<WebSocketHandshakeException>(() => sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        var entry = Assert.Single(loggers.Lines, l => l.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.StartsWith("feed: connect attempt 1 to ws://example.test/socket failed: The server refused the WebSocket handshake with HTTP status 401 (Unauthorized). Not retried", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToStrings_AreOneLineForAPerson_WithNoSecrets()
    {
        var inner = new WebSocketException("Unable to connect to wss://user:pw@example.test/feed?token=SECRET", new HttpRequestException("Connection refused (127.0.0.1:5000)", new IOException("Connection refused")));

        Assert.Equal(
            "Reconnecting in 2.1 s (connect failed): Unable to connect to wss://example.test/feed: Connection refused (127.0.0.1:5000)",
            new ConnectionStateChange(ConnectionState.Connecting, ConnectionState.Reconnecting, DisconnectReason.ConnectFailed, inner) { NextAttemptIn = TimeSpan.FromSeconds(2.1) }.ToString());
        Assert.Equal("Connecting", new ConnectionStateChange(ConnectionState.Reconnecting, ConnectionState.Connecting, null, null).ToString());
        Assert.Equal(
            "Reconnecting in 3.0 s (connect failed): The server refused the WebSocket handshake with HTTP status 503 (ServiceUnavailable)",
            new ConnectionStateChange(ConnectionState.Connecting, ConnectionState.Reconnecting, DisconnectReason.ConnectFailed,
                new WebSocketHandshakeException(HttpStatusCode.ServiceUnavailable, new WebSocketException("The server returned status code '503' when status code '101' was expected.")))
            { NextAttemptIn = TimeSpan.FromSeconds(3) }.ToString());
        Assert.Equal(
            "Session ended (closed by the server, close 1012 'service restart')",
            new DisconnectedInfo(DisconnectReason.ClosedByServer, (WebSocketCloseStatus)1012, "service restart", null).ToString());
        Assert.Equal(
            "Session ended (keep-alive timeout (no pong)): Aborted: The WebSocket didn't receive a Pong frame",
            new DisconnectedInfo(DisconnectReason.KeepAliveTimeout, null, null,
                new OperationCanceledException("Aborted", new AggregateException(new WebSocketException("The WebSocket didn't receive a Pong frame.")))).ToString());
        Assert.Equal(
            "Outgoing text message of 5 bytes dropped: the send queue was full",
            new DroppedMessage(MessageDirection.Outgoing, WebSocketMessageType.Text, 5, DropReason.QueueFull).ToString());
        Assert.Equal(
            "Incoming binary message of 1025 bytes dropped: it was larger than MaxMessageSize",
            new DroppedMessage(MessageDirection.Incoming, WebSocketMessageType.Binary, 1025, DropReason.MessageTooLarge).ToString());
    }
}
