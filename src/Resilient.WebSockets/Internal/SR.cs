using System.Globalization;

namespace Resilient.WebSockets.Internal;

/// <summary>Every exception message the library throws, in one place, so that tests can assert them.</summary>
internal static class SR
{
    public const string UriMissing =
        "No endpoint is configured. Set options.Uri to an absolute ws:// or wss:// URI, or set options.UriFactory.";
    public const string UriNotAbsolute =
        "The URI '{0}' is invalid. It must be absolute, with the scheme ws or wss (for example wss://example.com/socket).";
    public const string UriSchemeInvalid =
        "The URI scheme '{0}' is invalid. It must be ws or wss.";
    public const string TimeSpanNotPositive =
        "The {0} '{1}' is invalid. It must be greater than zero{2}.";
    public const string TimeSpanNegative =
        "The {0} '{1}' is invalid. It must be zero or greater.";
    public const string MaxDelayBelowInitial =
        "The maximum reconnect delay '{0}' is invalid. It must be at least the initial delay '{1}'.";
    public const string IntOutOfRange =
        "The {0} '{1}' is invalid. It must be between {2} and {3}.";
    public const string LongOutOfRange =
        "The {0} '{1}' is invalid. It must be between {2} and {3}.";
    public const string OptionRequired =
        "The option '{0}' is invalid. It must not be null.";
    public const string NameInvalid =
        "The name '{0}' is invalid. It must be at most 200 characters, or empty to use the endpoint's host.";
    public const string EnumInvalid =
        "The {0} '{1}' is invalid. It must be one of: {2}.";
    public const string AlreadyStarted =
        "The client is already started (state '{0}'). Call StopAsync before starting it again.";
    public const string NotStarted =
        "The client is not running (state '{0}'). Call StartAsync first.";
    public const string CloseStatusInvalid =
        "The close status '{0}' is invalid. It must be between 1000 and 4999, and not 1004, 1006 or 1015 (reserved).";
    public const string CloseDescriptionWithEmpty =
        "A close description was given with the close status Empty. Empty (1005) carries no description; pass null, or another status.";
    public const string CloseDescriptionTooLong =
        "The close description is {0} UTF-8 bytes long. It must be at most {1} bytes.";
    public const string StartCancelled =
        "StartAsync was cancelled, or the client was stopped, before the first connection was made.";
    public const string ProxyRefused =
        "The proxy refused to open a tunnel to {0} with HTTP status {1} ({2}).";
    public const string ProxyRefusedCredentials =
        " Not retried, since the same request would be refused again: give the proxy its credentials (WebProxy.Credentials, or ClientWebSocketOptions.Proxy's) in ConfigureWebSocket.";
    public const string HandshakeRefused =
        "The server refused the WebSocket handshake with HTTP status {0} ({1}).";
    public const string UriFactoryReturnedInvalid =
        "options.UriFactory returned '{0}'. It must return an absolute ws:// or wss:// URI.";
    public const string ConnectorReturnedNull =
        "The connector returned null. IWebSocketConnector.ConnectAsync must return an open WebSocket.";
    public const string ConnectorReturnedNotOpen =
        "The connector returned a WebSocket in state '{0}'. IWebSocketConnector.ConnectAsync must return an open WebSocket.";
    public const string ConnectTimedOut =
        "The connect attempt did not complete within the connect timeout of {0}.";
    public const string BinaryMessageHasNoText =
        "The message is binary, so it has no Text. Read Data instead.";
    public const string ContextExpired =
        "This ConnectedContext belongs to a session whose OnConnected hook has returned. Send through the ReconnectingWebSocket instead.";
    public const string MessageTypeInvalid =
        "The message type '{0}' is invalid. It must be Text or Binary.";
    public const string MessageDropped =
        "The message was not sent: {0}.";
    public const string ReliableDropped =
        "Reliable message {0} was not delivered: {1}.";
    public const string DropCleared = "ClearPendingSends removed it from the send queue";
    public const string DropDisposed = "the client was disposed before it was written";
    public const string DropQueueFull = "the send queue was full";
    public const string DropNotConnected = "the client is not connected, and SendQueue.WhileDisconnected is Fail";
    public const string DropDisconnected = "the session was lost, and SendQueue.WhileDisconnected is Fail";
    public const string DropExpired = "it waited in the send queue longer than SendQueue.TimeToLive";
    public const string DropStopped = "the client was stopped, and SendQueue.FlushOnStop is off";
    public const string DropReceiveBufferFull = "the receive buffer was full (the observers of Messages were behind)";
    public const string DropMessageTooLarge = "it was larger than MaxMessageSize";
    public const string DropQueueFullReliable = "the outbox was full (Delivery.Capacity or Delivery.MaxBytes), and Delivery.FullMode is Fail";
    public const string DropNotAcknowledged = "the server did not acknowledge it";
    public const string DropRejected = "the server rejected it";
    public const string DropDuplicate = "it repeated a message already received (Deduplication)";
    public const string DropInvalidJson = "it was not valid JSON for the type a Json<T> subscription reads; that subscription skipped it";
    public const string JsonTypeMissing = "The JsonSerializerContext {0} has no metadata for {1}: add [JsonSerializable(typeof({1}))] to it, or pass a JsonTypeInfo<{1}>.";
    public const string JsonNull = "The message is JSON null, and Json<{0}> publishes only values.";
    public const string JsonInvalidDetail = "not JSON for {0}: {1}";
    public const string DropDisposedReliable = "the client was disposed before the server acknowledged it (no Delivery.Store keeps it)";
    public const string ReliableTooLarge = "A reliable message of {0} bytes is larger than the whole outbox (Delivery.MaxBytes = {1}); send it in parts, or raise Delivery.MaxBytes.";
    public const string ReliableDuplicateId = "A message with id '{0}' is already in the outbox, not yet acknowledged; give every reliable message its own id.";
    public const string ReliableAttemptsSpent = "no ack after {0} writes (Delivery.MaxAttempts)";
    public const string ReliableDeliveryTimedOut = "no ack within {0} of its acceptance (Delivery.DeliveryTimeout)";
    public const string ReliableKeptInStore = "The client was disposed before the server acknowledged this message; it stays in Delivery.Store and is sent after the next start.";
    public const string DeliveryOff = "{0} needs acknowledged delivery: set options.Delivery (with Delivery.ReadAck) when creating the client.";
    public const string StoreDirectoryMissing = "FileOutboxStoreOptions.Directory is required: the directory where this client's outbox is kept (one directory per client).";
    public const string StoreInUse = "The outbox directory '{0}' is in use by another client (its outbox.lock is held open): each client needs a Delivery.Store directory of its own, and a client must be disposed before another opens its directory.";
    public const string StoreNotALog = "the file does not start with the outbox log header";
    public const string StoreTornHeader = "a record header is cut short";
    public const string StoreTornRecord = "a record is cut short";
    public const string StoreCorruptRecord = "a record fails its checksum";
    public const string RequestDuplicateId = "A request with correlation id '{0}' is already waiting for its response; give every request its own id.";
    public const string RequestTimedOut = "No response to request {0} within {1}; a response that comes later is published on Messages.";
    public const string RequestSessionLost = "The session was lost before the response to request {0} came; the server may or may not have acted on it (Requests.OnDisconnect is Fail).";
    public const string RequestsOff = "RequestAsync needs options.Requests (with Requests.ReadCorrelationId) when creating the client.";
    public const string EnvelopeClientIdNeeded = "options.Envelope.ClientId is required with options.Delivery.Store: the server tells a restarted client's resent messages from new ones by it, so it must stay the same across restarts.";
    public const string ReaderWithEnvelope = "{0} must be null with options.Envelope: the envelope reads its own frames.";
    public const string EnvelopeOff = "{0} without an id needs options.Envelope (which numbers messages itself); otherwise give the message an id.";
    public const string MessageIdInvalid = "A message id must be 1 to {1} characters; got {0} characters.";
    public const string CertificateRefused =
        "The server certificate of {0} was refused: {1}. Not retried, since the same certificate would be refused again: trust its issuer on this machine, or check it yourself with ClientWebSocketOptions.RemoteCertificateValidationCallback in ConfigureWebSocket.";
    public const string EndpointUnknown = "the endpoint (UriFactory failed)";
    public const string DelayByPipeline = "as Reconnect.Pipeline decides";
    public const string NoRetryDisabled = "Reconnect.Enabled is off: the client stopped.";
    public const string NoRetryAttemptsUsed = "That was attempt {0} of Reconnect.MaxAttempts: the client stopped.";
    public const string NoRetryAuthentication =
        "Not retried, since the same credentials would be refused again: the client stopped. Refresh them in ConfigureWebSocket and set Reconnect.RetryOnAuthenticationFailure to retry.";
    public const string NoRetryPermanent = "Not retried (Reconnect.ShouldRetry said no): the client stopped.";
    public const string NoReconnect = "Not reconnecting.";
    public const string NextAttemptIn = "Next attempt in {0}.";
    public const string ReconnectingNow = "Reconnecting now.";
    public const string StartCancelledAfterFailure =
        "StartAsync was cancelled before the first connection was made. The last attempt failed: {0}";
    public const string KeepAliveCheckFailed =
        "Nothing arrived within {0} of a ping sent when the network changed: the link is dead; the session was ended.";
    public const string HeartbeatCheckFailed =
        "No heartbeat reply within {0} of the heartbeat sent when the network changed: the link is dead; the session was ended.";
    public const string KeepAliveTimedOut =
        "Nothing arrived within {0} of a ping (options.KeepAliveTimeout): the link is dead; the session was ended.";
    public const string TcpUserTimedOut =
        "Data written to the server went unacknowledged for {0} (options.KeepAliveTimeout, enforced by the OS's TCP user timeout): the link is dead; the session was ended.";
    public const string InactivityTimedOut =
        "No message arrived for {0} (options.InactivityTimeout); the session was ended.";
    public const string HeartbeatTimedOut =
        "No reply to the heartbeat arrived within {0} (options.Heartbeat.Timeout); the session was ended.";
    public const string MessageTooLargeDescription = "message too big";
    public const string MessageTooLargeDetail =
        "The server sent a message larger than MaxMessageSize ({0} bytes); the session was closed with 1009.";

    public static string Format(string format, params object?[] args) =>
        string.Format(CultureInfo.InvariantCulture, format, args);
}
