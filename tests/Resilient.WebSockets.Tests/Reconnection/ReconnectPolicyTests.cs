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
        return new ReconnectPolicy(options, _time, NullLogger.Instance, "test");
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

    [Fact]
    public async Task Pipeline_MaxAttempts_RunsThatManyAttemptsThenThrowsTheLast()
    {
        var sut = CreateSut(o => { o.MaxAttempts = 3; o.InitialDelay = TimeSpan.Zero; o.MaxDelay = TimeSpan.Zero; });
        int attempts = 0;

        var error = await Assert.ThrowsAsync<WebSocketException>(() => sut.Pipeline.ExecuteAsync<int>(_ => throw new WebSocketException($"#{++attempts}")).AsTask());

        Assert.Equal(3, attempts);
        Assert.Equal("#3", error.Message);
    }

    [Fact]
    public async Task Pipeline_Delays_UseTheInjectedClock()
    {
        var sut = CreateSut(o => o.MaxAttempts = 2);
        int attempts = 0;

        var run = sut.Pipeline.ExecuteAsync(_ => ++attempts == 1 ? throw new WebSocketException("once") : ValueTask.FromResult(attempts)).AsTask();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(2, await run.WaitAsync(Testing.ClientProbe.DefaultTimeout));
    }

    [Fact]
    public void Pipeline_Disabled_MakesOneAttempt()
    {
        var sut = CreateSut(o => o.Enabled = false);

        Assert.Same(ResiliencePipeline.Empty, sut.Pipeline);
        Assert.False(sut.ReconnectsAfterLoss);
    }

    [Fact]
    public void Pipeline_UserSupplied_ReplacesTheBuiltInPolicy()
    {
        var custom = new ResiliencePipelineBuilder().Build();
        var sut = CreateSut(o => o.Pipeline = custom);

        Assert.Same(custom, sut.Pipeline);
        Assert.False(sut.IsBuiltIn);
    }
}
