using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Reconnection;

/// <summary>
/// Every wait before a connect attempt, behind one call (<see cref="ConnectAsync{T}"/>): the delay after a lost session,
/// the retries of failed attempts under the Polly pipeline (the built-in one, or the app's), and the connect timeout of
/// each attempt. The backoff step carries over between outages: it only goes back to the start after a session stayed
/// up for <see cref="ReconnectOptions.MinUptime"/>, so a server that accepts and drops at once is not hammered.
/// </summary>
internal sealed class ReconnectPolicy
{
    private readonly ReconnectOptions _options;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly Backoff _backoff;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly ResiliencePipeline _pipeline;
    private int _step;
    private RetryPlan _plan;
    private CancellationTokenSource? _wake;
    private TimeSpan _lastUptime;
    private bool _lastLossWasPlanned;

    public ReconnectPolicy(ReconnectOptions options, TimeSpan connectTimeout, TimeProvider timeProvider, ILogger logger, string name, Func<double>? random = null)
    {
        _options = options;
        _connectTimeout = connectTimeout;
        _timeProvider = timeProvider;
        _backoff = new Backoff(options, random);
        _logger = logger;
        _name = name;
        _pipeline = options.Pipeline ?? Build(timeProvider);
    }

    /// <summary>Whether a lost session is followed by another connect.</summary>
    public bool ReconnectsAfterLoss => _options.Enabled;

    /// <summary>Starts a new run: the backoff begins at its first step.</summary>
    public void Reset()
    {
        _step = 0;
        _lastLossWasPlanned = false;
    }

    /// <summary>A session ended after <paramref name="uptime"/>; a healthy one resets the backoff.</summary>
    public void OnSessionEnded(TimeSpan uptime)
    {
        _lastUptime = uptime;
        if (uptime >= _options.MinUptime)
        {
            _step = 0;
        }
    }

    /// <summary>Ends the wait under way, if any (the network came back): the next attempt starts now. Any thread; runs
    /// nothing but the wait's own cancellation.</summary>
    public void Wake()
    {
        try
        {
            Volatile.Read(ref _wake)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That wait just ended by itself.
        }
    }

    /// <summary>The next delay of the backoff sequence; each call moves one step on.</summary>
    public TimeSpan NextDelay() => _backoff.GetDelay(_step++);

    /// <summary>Whether a failed attempt may be followed by another: the app's <see cref="ReconnectOptions.ShouldRetry"/>,
    /// or the built-in rule.</summary>
    public bool IsRetryable(Exception exception)
    {
        if (_options.ShouldRetry is { } shouldRetry)
        {
            try
            {
                return shouldRetry(exception);
            }
#pragma warning disable CA1031 // The app's predicate failed: do not retry, and say so.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ShouldRetryFailed(_logger, _name, ex);
                return false;
            }
        }

        return exception is WebSocketHandshakeException { IsAuthenticationFailure: true }
            ? _options.RetryOnAuthenticationFailure
            : ReconnectOptions.DefaultShouldRetry(exception);
    }

    /// <summary>The wait after a lost session. A planned restart by the server (close 1001 going away, 1012 service
    /// restart, 1013 try again later) gets a short delay spread over a wide range, so that a fleet does not come back at
    /// once, and leaves the backoff where it was. Any other loss takes the next step of the backoff, and so does a
    /// planned restart right after another one whose session was shorter than <see cref="ReconnectOptions.MinUptime"/>
    /// (a server that says "restarting" on every connect is flapping, not restarting).</summary>
    public TimeSpan DelayAfterLoss(DisconnectedInfo ended)
    {
        bool planned = ended is { Reason: DisconnectReason.ClosedByServer, CloseStatus: { } status } && (int)status is 1001 or 1012 or 1013;
        bool flapping = planned && _lastLossWasPlanned && _lastUptime < _options.MinUptime;
        _lastLossWasPlanned = planned;
        return planned && !flapping ? _backoff.GetPlannedRestartDelay() : NextDelay();
    }

    /// <summary>
    /// Connects: after a lost session first waits <paramref name="delayFirst"/> (see <see cref="DelayAfterLoss"/>), which
    /// <paramref name="skipWait"/> cuts short (a requested reconnect); then runs <paramref name="attempt"/> under the
    /// pipeline, each attempt bounded by the connect timeout. The wait after a loss applies with an app's pipeline too,
    /// so a server that accepts and closes at once never gets a tight reconnect loop.
    /// </summary>
    /// <param name="attempt">One attempt, given its 1-based number within this outage and a token that ends it.</param>
    /// <param name="onFailed">Told of each failed attempt (a timeout as a <see cref="TimeoutException"/>) with what the
    /// policy decided: another attempt after a delay, or why none follows.</param>
    /// <param name="delayFirst">After a lost session, the wait before the first attempt (see <see cref="DelayAfterLoss"/>); null for none.</param>
    /// <param name="skipWait">Cuts that wait short.</param>
    /// <param name="cancellationToken">Ends everything: the run is stopping.</param>
    /// <exception cref="Exception">The pipeline gave up: the last attempt's exception.</exception>
    public async Task<T> ConnectAsync<T>(
        Func<int, CancellationToken, ValueTask<T>> attempt,
        Action<int, Exception, RetryPlan> onFailed,
        TimeSpan? delayFirst,
        CancellationToken skipWait,
        CancellationToken cancellationToken)
    {
        if (delayFirst is { } delay)
        {
            await WaitAsync(delay, skipWait, cancellationToken).ConfigureAwait(false);
        }

        int number = 0;
        return await _pipeline.ExecuteAsync(
            async token => await AttemptAsync(++number, attempt, onFailed, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<T> AttemptAsync<T>(int number, Func<int, CancellationToken, ValueTask<T>> attempt, Action<int, Exception, RetryPlan> onFailed, CancellationToken cancellationToken)
    {
        // The built-in policy's delay between attempts (the previous attempt's plan) is waited here rather than by Polly,
        // so that it can be cut short. Attempts and their waits run one after another.
        if (number > 1 && _plan is { Verdict: RetryVerdict.Retry, Delay: { } delay })
        {
            await WaitAsync(delay, CancellationToken.None, cancellationToken).ConfigureAwait(false);
        }

        _plan = default;
        using var timeout = _connectTimeout == Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource()
            : new CancellationTokenSource(_connectTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await attempt(number, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            var failure = ex is OperationCanceledException && timeout.IsCancellationRequested
                ? new TimeoutException(SR.Format(SR.ConnectTimedOut, Describe.Duration(_connectTimeout)), ex)
                : ex;
            _plan = PlanRetry(number, failure);
            onFailed(number, failure, _plan);
            if (!ReferenceEquals(failure, ex))
            {
                throw failure;
            }

            throw;
        }
    }

    /// <summary>The built-in policy's one decision after a failed attempt (the retry rule is asked once): the delay
    /// before the next one, or why none follows. The pipeline follows it. An app's pipeline decides alone.</summary>
    private RetryPlan PlanRetry(int number, Exception failure)
    {
        if (_options.Pipeline is not null)
        {
            return new RetryPlan(RetryVerdict.PipelineDecides);
        }

        if (!_options.Enabled)
        {
            return new RetryPlan(RetryVerdict.Disabled);
        }

        if (!IsRetryable(failure))
        {
            return new RetryPlan(failure is WebSocketHandshakeException { IsAuthenticationFailure: true } ? RetryVerdict.AuthenticationRefused : RetryVerdict.NotRetryable);
        }

        if (_options.MaxAttempts is { } max && number >= max)
        {
            return new RetryPlan(RetryVerdict.AttemptsUsed);
        }

        return new RetryPlan(RetryVerdict.Retry, failure is WebSocketHandshakeException { RetryAfter: { } asked }
            ? asked < _options.MaxDelay ? asked : _options.MaxDelay
            : NextDelay());
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken skipWait, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero || skipWait.IsCancellationRequested)
        {
            return;
        }

        using var wake = CancellationTokenSource.CreateLinkedTokenSource(skipWait, cancellationToken);
        Volatile.Write(ref _wake, wake);
        try
        {
            await Task.Delay(delay, _timeProvider, wake.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A reconnect was requested, or the network came back: attempt now.
        }
        finally
        {
            Interlocked.CompareExchange(ref _wake, null, wake);
        }
    }

    private ResiliencePipeline Build(TimeProvider timeProvider)
    {
        if (!_options.Enabled || _options.MaxAttempts == 1)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is not null && _plan.Verdict == RetryVerdict.Retry),
                MaxRetryAttempts = int.MaxValue, // the plan counts the attempts
                Delay = TimeSpan.Zero, // the next attempt waits the plan's delay itself
            })
            .Build();
    }
}
