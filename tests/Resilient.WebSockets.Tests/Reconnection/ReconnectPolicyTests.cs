using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Resilient.WebSockets.Reconnection;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Reconnection;

public class ReconnectPolicyTests
{
    private readonly TestTimeProvider _time = new();

    private ReconnectPolicy CreateSut(Action<ReconnectOptions>? configure = null)
    {
        var options = new ReconnectOptions { UseJitter = false, InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(60), MinUptime = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return new ReconnectPolicy(options, Timeout.InfiniteTimeSpan, _time, NullLogger.Instance, "test");
    }

    [Fact]
    public void OnSessionEnded_ShortSession_KeepsTheBackoffGrowing()
    {
        var sut = CreateSut();
        sut.NextDelay();
        sut.NextDelay();

        sut.OnSessionEnded(TimeSpan.FromSeconds(9));

        Assert.Equal(TimeSpan.FromSeconds(4), sut.NextDelay());
    }

    [Fact]
    public void OnSessionEnded_HealthySession_StartsTheBackoffAgain()
    {
        var sut = CreateSut();
        sut.NextDelay();
        sut.NextDelay();

        sut.OnSessionEnded(TimeSpan.FromSeconds(10));

        Assert.Equal(TimeSpan.FromSeconds(1), sut.NextDelay());
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, false, false)]
    [InlineData(HttpStatusCode.Forbidden, false, false)]
    [InlineData(HttpStatusCode.Unauthorized, true, true)]
    [InlineData(HttpStatusCode.ProxyAuthenticationRequired, false, false)]
    [InlineData(HttpStatusCode.ProxyAuthenticationRequired, true, true)]
    [InlineData(HttpStatusCode.InternalServerError, false, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, false, true)]
    public void IsRetryable_HandshakeRefused_OnlyAuthFailuresNeedTheOptIn(HttpStatusCode status, bool optIn, bool expected)
    {
        var sut = CreateSut(o => o.RetryOnAuthenticationFailure = optIn);

        Assert.Equal(expected, sut.IsRetryable(new WebSocketHandshakeException(status, null)));
    }

    [Fact]
    public void IsRetryable_ConnectionErrorsYesConfigurationErrorsNo()
    {
        var sut = CreateSut();

        Assert.True(sut.IsRetryable(new WebSocketException("refused")));
        Assert.True(sut.IsRetryable(new TimeoutException()));
        Assert.False(sut.IsRetryable(new ArgumentException("bad uri")));
    }

    private static Task<int> ConnectAsync(ReconnectPolicy sut, Func<int, ValueTask<int>> attempt, List<Exception>? failures = null, bool afterLoss = false) =>
        sut.ConnectAsync((n, _) => attempt(n), (_, ex, _) => failures?.Add(ex), afterLoss ? sut.DelayAfterLoss(Lost) : null, CancellationToken.None, CancellationToken.None);

    private static readonly DisconnectedInfo Lost = new(DisconnectReason.ConnectionLost, null, null, null);

    [Fact]
    public async Task ConnectAsync_MaxAttempts_RunsThatManyAttemptsThenThrowsTheLast()
    {
        var sut = CreateSut(o => { o.MaxAttempts = 3; o.InitialDelay = TimeSpan.Zero; o.MaxDelay = TimeSpan.Zero; });
        var failures = new List<Exception>();

        var error = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(sut, n => throw new WebSocketException($"#{n}"), failures));

        Assert.Equal("#3", error.Message);
        Assert.Equal(["#1", "#2", "#3"], failures.Select(f => f.Message));
    }

    [Fact]
    public async Task ConnectAsync_Delays_UseTheInjectedClock()
    {
        var sut = CreateSut(o => o.MaxAttempts = 2);

        var run = ConnectAsync(sut, n => n == 1 ? throw new WebSocketException("once") : ValueTask.FromResult(n));
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(2, await run.WaitAsync(Testing.ClientProbe.DefaultTimeout));
    }

    [Fact]
    public async Task ConnectAsync_AttemptOutlastsTheConnectTimeout_FailsWithATimeoutException()
    {
        var options = new ReconnectOptions { MaxAttempts = 1 };
        var sut = new ReconnectPolicy(options, TimeSpan.FromSeconds(7), _time, NullLogger.Instance, "test");
        var failures = new List<Exception>();

        var run = sut.ConnectAsync<int>(async (_, token) => { await Task.Delay(Timeout.Infinite, token); return 0; }, (_, ex, _) => failures.Add(ex), null, default, default);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(7));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => run.WaitAsync(Testing.ClientProbe.DefaultTimeout));
        Assert.Same(error, Assert.Single(failures));
    }

    [Fact]
    public async Task ConnectAsync_AfterALostSession_WaitsOneBackoffDelayEvenWithAnAppPipeline()
    {
        // The app's pipeline would retry at once; a lost session must still be followed by a delay.
        var sut = CreateSut(o => o.Pipeline = new ResiliencePipelineBuilder().Build());
        int attempts = 0;

        var run = ConnectAsync(sut, _ => ValueTask.FromResult(++attempts), afterLoss: true);
        await _time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(0, attempts);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, await run.WaitAsync(Testing.ClientProbe.DefaultTimeout));
    }

    [Fact]
    public async Task ConnectAsync_AfterALostSessionWithTheWaitSkipped_AttemptsAtOnce()
    {
        var sut = CreateSut();
        using var skip = new CancellationTokenSource();
        await skip.CancelAsync();

        int result = await sut.ConnectAsync((_, _) => ValueTask.FromResult(5), (_, _, _) => { }, sut.DelayAfterLoss(Lost), skip.Token, CancellationToken.None);

        Assert.Equal(5, result);
        Assert.Equal(0, _time.AliveTimers);
    }

    [Theory]
    [InlineData(1001)]
    [InlineData(1012)]
    [InlineData(1013)]
    public void DelayAfterLoss_APlannedRestart_IsTheShortDelay_AndLeavesTheBackoffWhereItWas(int closeCode)
    {
        var sut = CreateSut();
        var restart = new DisconnectedInfo(DisconnectReason.ClosedByServer, (WebSocketCloseStatus)closeCode, "restart", null);
        var shortSession = TimeSpan.FromSeconds(4.5);

        sut.OnSessionEnded(shortSession);
        Assert.Equal(TimeSpan.FromSeconds(1), sut.DelayAfterLoss(Lost));     // step 0
        sut.OnSessionEnded(shortSession);
        Assert.Equal(TimeSpan.FromSeconds(1), sut.DelayAfterLoss(restart));  // short, no step taken
        sut.OnSessionEnded(shortSession);
        Assert.Equal(TimeSpan.FromSeconds(2), sut.DelayAfterLoss(Lost));     // step 1
    }

    [Fact]
    public void DelayAfterLoss_PlannedRestartsOneAfterTheOtherWithShortSessions_AreFlapping_AndTheBackoffGrows()
    {
        var sut = CreateSut();
        var restart = new DisconnectedInfo(DisconnectReason.ClosedByServer, (WebSocketCloseStatus)1012, "restart", null);
        var delays = new List<TimeSpan>();

        foreach (var uptime in new[] { 4.5, 0.1, 0.1, 30, 0.1 })
        {
            sut.OnSessionEnded(TimeSpan.FromSeconds(uptime));
            delays.Add(sut.DelayAfterLoss(restart));
        }

        // short; flapping: steps 0 and 1; a healthy session resets the step, but the restart after it is planned again: short.
        Assert.Equal([1, 1, 2, 1, 1], delays.Select(d => d.TotalSeconds));
    }

    [Fact]
    public void DelayAfterLoss_AnOrdinaryServerClose_TakesTheNextBackoffStep()
    {
        var sut = CreateSut();
        var closed = new DisconnectedInfo(DisconnectReason.ClosedByServer, WebSocketCloseStatus.NormalClosure, null, null);

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], new[] { sut.DelayAfterLoss(closed), sut.DelayAfterLoss(closed) });
    }

    [Theory]
    [InlineData(0.0, 500)]
    [InlineData(0.5, 1000)]
    [InlineData(0.999, 1499)]
    public void PlannedRestartDelay_WithJitter_SpreadsFromHalfToOneAndAHalfTimesTheInitialDelay(double random, int expectedMs)
    {
        var backoff = new Backoff(new ReconnectOptions { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(30) }, () => random);

        Assert.Equal(expectedMs, (int)backoff.GetPlannedRestartDelay().TotalMilliseconds);
    }

    [Fact]
    public void PlannedRestartDelay_IsNeverAboveMaxDelay()
    {
        var backoff = new Backoff(new ReconnectOptions { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(1.2) }, () => 0.99);

        Assert.Equal(TimeSpan.FromSeconds(1.2), backoff.GetPlannedRestartDelay());
    }
}
