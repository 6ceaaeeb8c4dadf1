using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Delivery;

/// <summary>
/// What the receive loop asks of every incoming message before it is published, when a delivery feature is on: is it
/// an ack (settled in the outbox), a response (handed to its request), or a repeat (dropped as a duplicate)?
/// </summary>
/// <remarks>Runs on the receive loop, outside every lock of the client. The app's readers are user code: one that
/// throws is logged, and the message is treated as not being what that reader looks for.</remarks>
internal sealed class IncomingFilter
{
    private readonly Outbox? _outbox;
    private readonly Func<WebSocketMessage, MessageAck?>? _readAck;
    private readonly bool _publishAcks;
    private readonly RequestTable? _requests;
    private readonly Func<WebSocketMessage, string?>? _readCorrelationId;
    private readonly bool _publishResponses;
    private readonly Deduplicator? _deduplicator;
    private readonly Func<WebSocketMessage, string?>? _readMessageId;
    private readonly EventStream<DroppedMessage> _dropped;
    private readonly ILogger _logger;
    private readonly string _name;

    public IncomingFilter(ReconnectingWebSocketOptions options, Outbox? outbox, RequestTable? requests, EventStream<DroppedMessage> dropped, ILogger logger, string name)
    {
        _outbox = outbox;
        _readAck = options.Delivery?.ReadAck;
        _publishAcks = options.Delivery?.PublishAcks ?? false;
        _requests = requests;
        _readCorrelationId = options.Requests?.ReadCorrelationId;
        _publishResponses = options.Requests?.PublishResponses ?? false;
        if (options.Deduplication is { } deduplication)
        {
            _deduplicator = new Deduplicator(deduplication, options.TimeProvider);
            _readMessageId = deduplication.ReadMessageId;
        }

        _dropped = dropped;
        _logger = logger;
        _name = name;
    }

    public static bool IsNeeded(ReconnectingWebSocketOptions options) =>
        options.Delivery is not null || options.Requests is not null || options.Deduplication is not null;

    public bool ShouldPublish(WebSocketMessage message)
    {
        if (_readAck is not null && Read(_readAck, message, "Delivery.ReadAck") is { } ack)
        {
            _outbox!.Acknowledge(ack);
            return _publishAcks;
        }

        if (_readCorrelationId is not null && Read(_readCorrelationId, message, "Requests.ReadCorrelationId") is { } correlationId
            && _requests!.TryComplete(correlationId, message))
        {
            return _publishResponses;
        }

        if (_readMessageId is not null && Read(_readMessageId, message, "Deduplication.ReadMessageId") is { } messageId
            && !_deduplicator!.IsFirst(messageId))
        {
            _dropped.Publish(new DroppedMessage(MessageDirection.Incoming, message.MessageType, message.ByteLength, DropReason.Duplicate) { MessageId = messageId });
            return false;
        }

        return true;
    }

    private T? Read<T>(Func<WebSocketMessage, T?> reader, WebSocketMessage message, string what)
    {
        try
        {
            return reader(message);
        }
#pragma warning disable CA1031 // The app's reader must not end the receive loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ReaderFailed(_logger, _name, what, message.MessageType, message.ByteLength, ex);
            return default;
        }
    }
}
