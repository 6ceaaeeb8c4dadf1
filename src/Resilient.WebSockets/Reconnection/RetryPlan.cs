namespace Resilient.WebSockets.Reconnection;

/// <summary>What the reconnect policy decided after a failed attempt.</summary>
internal enum RetryVerdict
{
    /// <summary>Another attempt follows after <see cref="RetryPlan.Delay"/>.</summary>
    Retry,

    /// <summary>The app's <see cref="ReconnectOptions.Pipeline"/> decides; the client does not know what comes next.</summary>
    PipelineDecides,

    /// <summary><see cref="ReconnectOptions.Enabled"/> is off.</summary>
    Disabled,

    /// <summary>That was the last of <see cref="ReconnectOptions.MaxAttempts"/>.</summary>
    AttemptsUsed,

    /// <summary>A handshake refused with 401 or 403, not retried.</summary>
    AuthenticationRefused,

    /// <summary>Any other failure the retry rule (<see cref="ReconnectOptions.ShouldRetry"/>, or the built-in one) refused.</summary>
    NotRetryable,
}

/// <summary>The decision after a failed attempt, made once: the verdict, and the delay when it is <see cref="RetryVerdict.Retry"/>.</summary>
internal readonly record struct RetryPlan(RetryVerdict Verdict, TimeSpan? Delay = null);
