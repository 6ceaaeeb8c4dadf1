using System.Net;

namespace Resilient.WebSockets;

/// <summary>The server answered the WebSocket handshake with an HTTP status other than 101, or the HTTP proxy on the
/// way refused to open the tunnel to it (its status, 407 when it wants credentials).</summary>
/// <remarks>
/// The default connector throws it with the transport's <see cref="System.Net.WebSockets.WebSocketException"/> inside; a custom
/// <see cref="IWebSocketConnector"/> should throw it too, so that the reconnect policy can tell a refusal from a passing fault.
/// By default, 401, 403 and 407 are not retried (a new attempt cannot succeed without new credentials):
/// see <see cref="ReconnectOptions.RetryOnAuthenticationFailure"/>.
/// </remarks>
public sealed class WebSocketHandshakeException : Exception
{
    /// <summary>Creates the exception for a handshake answered with <paramref name="httpStatusCode"/>.</summary>
    /// <param name="httpStatusCode">The HTTP status the server answered with.</param>
    /// <param name="innerException">The exception the transport threw, if any.</param>
    public WebSocketHandshakeException(HttpStatusCode httpStatusCode, Exception? innerException)
        : base(SR.Format(SR.HandshakeRefused, (int)httpStatusCode, httpStatusCode), innerException)
    {
        HttpStatusCode = httpStatusCode;
    }

    internal WebSocketHandshakeException(HttpStatusCode httpStatusCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        HttpStatusCode = httpStatusCode;
    }

    /// <summary>The HTTP status the server (or the proxy) answered with.</summary>
    public HttpStatusCode HttpStatusCode { get; }

    /// <summary>How long the server asked the client to wait (its <c>Retry-After</c> header, on a 503 or 429), if it said.
    /// The built-in policy waits that long before the next attempt, at most <see cref="ReconnectOptions.MaxDelay"/>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Whether the status is 401 Unauthorized, 403 Forbidden or 407 Proxy Authentication Required.</summary>
    public bool IsAuthenticationFailure =>
        HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.ProxyAuthenticationRequired;
}
