using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Reconnection;

/// <summary>
/// The Polly pipeline every outage's connect attempts run through, and the backoff step that carries over between
/// outages: the step only goes back to the start after a session stayed up for <see cref="ReconnectOptions.MinUptime"/>.
/// </summary>
internal sealed class ReconnectPolicy
{
    private readonly ReconnectOptions _options;
    private readonly Backoff _backoff;
    private readonly ILogger _logger;
    private readonly string _name;
    private int _step;

    public ReconnectPolicy(ReconnectOptions options, TimeProvider timeProvider, ILogger logger, string name, Func<double>? random = null)
    {
        _options = options;
        _backoff = new Backoff(options, random);
        _logger = logger;
        _name = name;
        Pipeline = options.Pipeline ?? Build(timeProvider);
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>Whether the built-in policy is in use (a user pipeline decides its own delays).</summary>
    public bool IsBuiltIn => _options.Pipeline is null;

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
