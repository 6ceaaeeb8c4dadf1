using Polly;

namespace Resilient.WebSockets;

/// <summary>How a <see cref="ReconnectingWebSocket"/> retries a failed connect and re-opens a lost session.</summary>
/// <remarks>
/// Delays grow exponentially from <see cref="InitialDelay"/> (doubling per attempt) up to <see cref="MaxDelay"/>,
/// with ±20% jitter when <see cref="UseJitter"/> is on. After a session is lost the client waits one delay before
/// its first attempt, so that a restarted server is not hit by every client at once. The attempt count only
/// resets when a session stayed up for <see cref="MinUptime"/>: a server that accepts and drops at once does not
/// get hammered at the shortest delay. Read when the client is created; later changes have no effect.
/// </remarks>
public sealed class ReconnectOptions
{
    /// <summary>Whether the client re-opens a lost session and retries failed connects.</summary>
    /// <value>Default: <see langword="true"/>. When false, <see cref="ReconnectingWebSocket.StartAsync"/> makes one
    /// attempt and a lost session moves the client to <see cref="ConnectionState.Stopped"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>The delay before the first retry, and before the first attempt after a session is lost.</summary>
    /// <value>Default: 1 second. Zero or more.</value>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts (before jitter is clamped to it).</summary>
    /// <value>Default: 30 seconds. At least <see cref="InitialDelay"/>.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether each delay is spread by ±20% at random, so that many clients do not reconnect in step.</summary>
    /// <value>Default: <see langword="true"/>.</value>
    public bool UseJitter { get; set; } = true;

    /// <summary>Connect attempts per outage, the first one included; null for unlimited.</summary>
    /// <value>Default: null (unlimited). When set, 1 or more. When the attempts are used up the client stops and
    /// publishes the last attempt's exception; <see cref="ReconnectingWebSocket.StartAsync"/> throws it.</value>
    public int? MaxAttempts { get; set; }

    /// <summary>How long a session must stay up before the attempt count (and so the delay) starts again from the beginning.</summary>
    /// <value>Default: 10 seconds. Zero or more.</value>
    public TimeSpan MinUptime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether a handshake answered 401 or 403 (or a proxy's 407) is retried.</summary>
    /// <value>Default: <see langword="false"/>: the client stops with a <see cref="WebSocketHandshakeException"/>,
    /// because the same credentials would be refused again. Set it when
    /// <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/> refreshes them per attempt.</value>
    public bool RetryOnAuthenticationFailure { get; set; }

    /// <summary>Decides whether a failed connect attempt is followed by another (Polly's <c>ShouldHandle</c>, for the
    /// built-in policy).</summary>
    /// <value>Default: null, which means <see cref="DefaultShouldRetry"/> (with 401 and 403 retried when
    /// <see cref="RetryOnAuthenticationFailure"/> is set). A predicate that throws counts as "do not retry"; the client
    /// then stops with the attempt's exception. Ignored when <see cref="Pipeline"/> is set.</value>
    /// <example><code>options.Reconnect.ShouldRetry = ex => ex is not AuthenticationException &amp;&amp; ReconnectOptions.DefaultShouldRetry(ex);</code></example>
    public Func<Exception, bool>? ShouldRetry { get; set; }

    /// <summary>The built-in rule: every failed attempt is retried except those the same attempt would fail again:
    /// a handshake answered 401 or 403, or a proxy's 407 (<see cref="WebSocketHandshakeException.IsAuthenticationFailure"/>), a server
    /// certificate the platform refused (untrusted root, name mismatch, expired: an
    /// <see cref="System.Security.Authentication.AuthenticationException"/> not caused by an I/O error), and an invalid
    /// URI from <see cref="ReconnectingWebSocketOptions.UriFactory"/> (<see cref="ArgumentException"/>).</summary>
    /// <param name="exception">The failed attempt's exception.</param>
    /// <returns>Whether another attempt may succeed.</returns>
    public static bool DefaultShouldRetry(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (CertificateRefusal.Find(exception) is not null)
        {
            return false;
        }

        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is WebSocketHandshakeException { IsAuthenticationFailure: true } or ArgumentException)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A Polly pipeline that replaces the built-in policy: each outage runs the connect attempt through it.</summary>
    /// <value>Default: null (the built-in policy above). When set, <see cref="InitialDelay"/>, <see cref="MaxDelay"/>,
    /// <see cref="UseJitter"/>, <see cref="MaxAttempts"/>, <see cref="MinUptime"/> and
    /// <see cref="RetryOnAuthenticationFailure"/> and <see cref="ShouldRetry"/> are ignored; <see cref="ReconnectingWebSocketOptions.ConnectTimeout"/>
    /// still applies to every attempt. When the pipeline throws, the client stops with that exception.</value>
    public ResiliencePipeline? Pipeline { get; set; }

    internal ReconnectOptions Clone() => (ReconnectOptions)MemberwiseClone();
}
