using System.Net;

namespace Resilient.WebSockets;

/// <summary>The server answered the WebSocket handshake with an HTTP status other than 101.</summary>
/// <remarks>
/// The default connector throws it with the transport's <see cref="System.Net.WebSockets.WebSocketException"/> inside; a custom
/// <see cref="IWebSocketConnector"/> should throw it too, so that the reconnect policy can tell a refusal from a passing fault.
/// By default, 401 and 403 are not retried (a new attempt cannot succeed without new credentials):
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

    /// <summary>The HTTP status the server answered the handshake with.</summary>
    public HttpStatusCode HttpStatusCode { get; }

    /// <summary>How long the server asked the client to wait (its <c>Retry-After</c> header, on a 503 or 429), if it said.
    /// The built-in policy waits that long before the next attempt, at most <see cref="ReconnectOptions.MaxDelay"/>.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Whether the status is 401 Unauthorized or 403 Forbidden.</summary>
    public bool IsAuthenticationFailure =>
        HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
}
