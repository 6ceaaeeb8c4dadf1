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

    [LoggerMessage(101, LogLevel.Information, "{Name}: connected to {Endpoint} on attempt {Attempt}.")]
    public static partial void Connected(ILogger logger, string name, string endpoint, int attempt);

    [LoggerMessage(106, LogLevel.Information, "{Name}: reconnected to {Endpoint} on attempt {Attempt} after {Downtime} down.")]
    public static partial void Reconnected(ILogger logger, string name, string endpoint, int attempt, string downtime);

    [LoggerMessage(102, LogLevel.Warning, "{Name}: connect attempt {Attempt} to {Endpoint} failed: {Cause}. Next attempt in {Delay}.")]
    public static partial void ConnectAttemptFailed(ILogger logger, string name, int attempt, string endpoint, string cause, string delay);

    [LoggerMessage(103, LogLevel.Error, "{Name}: connect attempt {Attempt} to {Endpoint} failed: {Cause}. {WhatNext}")]
    public static partial void ConnectAttemptFailedFinal(ILogger logger, string name, int attempt, string endpoint, string cause, string whatNext);

    [LoggerMessage(105, LogLevel.Debug, "{Name}: connect attempt {Attempt} failed; the exception in full.")]
    public static partial void ConnectAttemptFailedDetail(ILogger logger, string name, int attempt, Exception exception);

    [LoggerMessage(104, LogLevel.Warning, "{Name}: the OnConnected hook failed: {Cause}. The session is dropped and the attempt counts as failed.")]
    public static partial void OnConnectedFailed(ILogger logger, string name, string cause, Exception exception);

    [LoggerMessage(200, LogLevel.Warning, "{Name}: a write failed: {Cause}. The message will be written first on the next session.")]
    public static partial void SendFailed(ILogger logger, string name, string cause);

    [LoggerMessage(201, LogLevel.Warning, "{Name}: {Count} outgoing messages were not sent: {Reason}.")]
    public static partial void SendsDropped(ILogger logger, string name, int count, string reason);

    [LoggerMessage(202, LogLevel.Debug, "{Name}: no ack for reliable message {MessageId} within {Timeout} (Delivery.AckTimeout); writing it again, attempt {Attempt} of {MaxAttempts}.")]
    public static partial void ReliableResending(ILogger logger, string name, string messageId, string timeout, int attempt, int maxAttempts);

    [LoggerMessage(203, LogLevel.Warning, "{Name}: reliable message {MessageId} was not delivered: {Reason}. Its send faults and it is reported on Dropped.")]
    public static partial void ReliableGivenUp(ILogger logger, string name, string messageId, string reason);

    [LoggerMessage(204, LogLevel.Warning, "{Name}: {Reader} threw on a {MessageType} message of {Length} bytes; it is treated as not being what that reader looks for.")]
    public static partial void ReaderFailed(ILogger logger, string name, string reader, WebSocketMessageType messageType, int length, Exception exception);

    [LoggerMessage(205, LogLevel.Warning, "{Name}: the outbox store could not remove message {MessageId}: {Cause}. It will be written once more after the next start.")]
    public static partial void OutboxRemoveFailed(ILogger logger, string name, string messageId, string cause, Exception exception);

    [LoggerMessage(206, LogLevel.Error, "{Name}: the outbox store could not be loaded: {Cause}. The client does not start.")]
    public static partial void OutboxLoadFailed(ILogger logger, string name, string cause, Exception exception);

    [LoggerMessage(207, LogLevel.Warning, "Outbox store {Path}: {Problem} at byte {Offset}; the {Cut} bytes from there on were cut off (a crash in the middle of a write, or a damaged file). {Recovered} messages were recovered.")]
    public static partial void StoreTailCut(ILogger logger, string path, long offset, string problem, long cut, int recovered);

    [LoggerMessage(405, LogLevel.Information, "{Name}: the network changed; checking the link now (an answer is due within {Deadline}).")]
    public static partial void CheckingLink(ILogger logger, string name, string deadline);

    [LoggerMessage(300, LogLevel.Error, "{Name}: an observer threw; it stays subscribed and the other observers were not affected.")]
    public static partial void ObserverFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(301, LogLevel.Information, "{Name}: {Ended}. {WhatNext}")]
    public static partial void SessionEnded(ILogger logger, string name, DisconnectedInfo ended, string whatNext);

    [LoggerMessage(304, LogLevel.Warning, "{Name}: {Ended}. {WhatNext}")]
    public static partial void SessionLost(ILogger logger, string name, DisconnectedInfo ended, string whatNext);

    [LoggerMessage(302, LogLevel.Warning, "{Name}: the server sent a message larger than {MaxMessageSize} bytes; closing with 1009.")]
    public static partial void MessageTooLarge(ILogger logger, string name, int maxMessageSize);

    [LoggerMessage(305, LogLevel.Warning, "{Name}: a {MessageType} message of {Length} bytes is not JSON for {Type} ({Where}); the Json<{Type}> subscription skipped it and lives on. It is reported on Dropped (InvalidJson); give Json<T> an onError to handle such messages yourself.")]
    public static partial void InvalidJson(ILogger logger, string name, WebSocketMessageType messageType, int length, string type, string where);

    [LoggerMessage(303, LogLevel.Trace, "{Name}: received a {MessageType} message of {Length} bytes.")]
    public static partial void MessageReceived(ILogger logger, string name, WebSocketMessageType messageType, int length);

    [LoggerMessage(401, LogLevel.Error, "{Name}: the reconnect pipeline gave up: {Cause}. The client stopped.")]
    public static partial void ReconnectGaveUp(ILogger logger, string name, string cause, Exception exception);

    [LoggerMessage(402, LogLevel.Debug, "{Name}: {Previous} -> {Change}.")]
    public static partial void StateChanged(ILogger logger, string name, ConnectionState previous, ConnectionStateChange change);

    [LoggerMessage(403, LogLevel.Error, "{Name}: an internal loop failed unexpectedly; the session is dropped.")]
    public static partial void LoopFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(404, LogLevel.Error, "{Name}: Reconnect.ShouldRetry threw; the attempt is not retried.")]
    public static partial void ShouldRetryFailed(ILogger logger, string name, Exception exception);
}
