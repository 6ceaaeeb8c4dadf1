using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace Resilient.WebSockets.Diagnostics;

/// <summary>Every log line of the library. EventIds: 1xx connect, 2xx send, 3xx receive, 4xx reconnect and lifecycle.</summary>
/// <remarks>No payload, header value or query string is ever logged: endpoints go through <see cref="Endpoint"/>.</remarks>
internal static partial class Log
{
    /// <summary>The endpoint as safe to log: scheme, host, port and path; no user info, no query, no fragment.</summary>
    public static string Endpoint(Uri uri) => Redaction.Endpoint(uri);

    [LoggerMessage(100, LogLevel.Debug, "{Name}: connecting to {Endpoint}, attempt {Attempt}.")]
    public static partial void Connecting(ILogger logger, string name, string endpoint, int attempt);

    [LoggerMessage(101, LogLevel.Information, "{Name}: connected to {Endpoint} on attempt {Attempt} (reconnect: {IsReconnect}, downtime: {Downtime}).")]
    public static partial void Connected(ILogger logger, string name, string endpoint, int attempt, bool isReconnect, TimeSpan downtime);

    [LoggerMessage(102, LogLevel.Warning, "{Name}: connect attempt {Attempt} failed.")]
    public static partial void ConnectAttemptFailed(ILogger logger, string name, int attempt, Exception exception);

    [LoggerMessage(103, LogLevel.Error, "{Name}: the server refused the handshake with HTTP {StatusCode}; not retrying, since the same credentials would be refused again. Refresh them in ConfigureWebSocket and set Reconnect.RetryOnAuthenticationFailure to retry.")]
    public static partial void AuthenticationFailureNotRetried(ILogger logger, string name, int statusCode);

    [LoggerMessage(104, LogLevel.Warning, "{Name}: the OnConnected hook failed; the session is dropped and the attempt counts as failed.")]
    public static partial void OnConnectedFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(200, LogLevel.Warning, "{Name}: a write failed; the message will be written first on the next session.")]
    public static partial void SendFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(201, LogLevel.Warning, "{Name}: {Count} outgoing messages were not sent ({Reason}).")]
    public static partial void SendsDropped(ILogger logger, string name, int count, DropReason reason);

    [LoggerMessage(300, LogLevel.Error, "{Name}: an observer threw; it stays subscribed and the other observers were not affected.")]
    public static partial void ObserverFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(301, LogLevel.Information, "{Name}: session ended ({Reason}, close status {CloseStatus}).")]
    public static partial void SessionEnded(ILogger logger, string name, DisconnectReason reason, WebSocketCloseStatus? closeStatus, Exception? exception);

    [LoggerMessage(302, LogLevel.Warning, "{Name}: the server sent a message larger than {MaxMessageSize} bytes; closing with 1009.")]
    public static partial void MessageTooLarge(ILogger logger, string name, int maxMessageSize);

    [LoggerMessage(303, LogLevel.Trace, "{Name}: received a {MessageType} message of {Length} bytes.")]
    public static partial void MessageReceived(ILogger logger, string name, WebSocketMessageType messageType, int length);

    [LoggerMessage(400, LogLevel.Information, "{Name}: next connect attempt in {Delay}.")]
    public static partial void ReconnectScheduled(ILogger logger, string name, TimeSpan delay);

    [LoggerMessage(401, LogLevel.Error, "{Name}: the reconnect policy gave up; the client stopped.")]
    public static partial void ReconnectGaveUp(ILogger logger, string name, Exception exception);

    [LoggerMessage(402, LogLevel.Debug, "{Name}: state {Previous} -> {Current} ({Reason}).")]
    public static partial void StateChanged(ILogger logger, string name, ConnectionState previous, ConnectionState current, DisconnectReason? reason);

    [LoggerMessage(403, LogLevel.Error, "{Name}: an internal loop failed unexpectedly; the session is dropped.")]
    public static partial void LoopFailed(ILogger logger, string name, Exception exception);
}
