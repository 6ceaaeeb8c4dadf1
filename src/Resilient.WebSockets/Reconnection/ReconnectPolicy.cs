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
    public void Reset() => _step = 0;

    /// <summary>A session ended after <paramref name="uptime"/>; a healthy one resets the backoff.</summary>
    public void OnSessionEnded(TimeSpan uptime)
    {
        if (uptime >= _options.MinUptime)
        {
            _step = 0;
        }
    }

    /// <summary>The next delay of the backoff sequence; each call moves one step on.</summary>
    public TimeSpan NextDelay() => _backoff.GetDelay(_step++);

    /// <summary>Whether a failed attempt may be followed by another.</summary>
    public bool IsRetryable(Exception exception) => exception switch
    {
        WebSocketHandshakeException { IsAuthenticationFailure: true } => _options.RetryOnAuthenticationFailure,
        ArgumentException => false,
        _ => true,
    };

    /// <summary>
    /// Connects: after a lost session (<paramref name="afterLoss"/>) first waits one backoff delay, which
    /// <paramref name="skipWait"/> cuts short (a requested reconnect); then runs <paramref name="attempt"/> under the
    /// pipeline, each attempt bounded by the connect timeout. The wait after a loss applies with an app's pipeline too,
    /// so a server that accepts and closes at once never gets a tight reconnect loop.
    /// </summary>
    /// <param name="attempt">One attempt, given its 1-based number within this outage and a token that ends it.</param>
    /// <param name="onFailed">Told of each failed attempt (a timeout as a <see cref="TimeoutException"/>), before the pipeline decides.</param>
    /// <param name="afterLoss">Whether a session was just lost (then one backoff delay comes first).</param>
    /// <param name="skipWait">Cuts the wait after a loss short.</param>
    /// <param name="cancellationToken">Ends everything: the run is stopping.</param>
    /// <exception cref="Exception">The pipeline gave up: the last attempt's exception.</exception>
    public async Task<T> ConnectAsync<T>(
        Func<int, CancellationToken, ValueTask<T>> attempt,
        Action<int, Exception> onFailed,
        bool afterLoss,
        CancellationToken skipWait,
        CancellationToken cancellationToken)
    {
        if (afterLoss)
        {
            await WaitAsync(NextDelay(), skipWait, cancellationToken).ConfigureAwait(false);
        }

        int number = 0;
        return await _pipeline.ExecuteAsync(
            async token => await AttemptAsync(++number, attempt, onFailed, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<T> AttemptAsync<T>(int number, Func<int, CancellationToken, ValueTask<T>> attempt, Action<int, Exception> onFailed, CancellationToken cancellationToken)
    {
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
            if (ex is OperationCanceledException && timeout.IsCancellationRequested)
            {
                var timedOut = new TimeoutException(SR.Format(SR.ConnectTimedOut, _connectTimeout), ex);
                onFailed(number, timedOut);
                throw timedOut;
            }

            onFailed(number, ex);
            throw;
        }
    }

    private async Task WaitAsync(TimeSpan delay, CancellationToken skipWait, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero || skipWait.IsCancellationRequested)
        {
            return;
        }

        Log.ReconnectScheduled(_logger, _name, delay);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(skipWait, cancellationToken);
        try
        {
            await Task.Delay(delay, _timeProvider, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A reconnect was requested: attempt now.
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
                ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is { } ex && IsRetryable(ex)),
                MaxRetryAttempts = _options.MaxAttempts is { } max ? max - 1 : int.MaxValue,
                DelayGenerator = _ => new ValueTask<TimeSpan?>(NextDelay()),
                OnRetry = args =>
                {
                    Log.ReconnectScheduled(_logger, _name, args.RetryDelay);
                    return default;
                },
            })
            .Build();
    }
}
