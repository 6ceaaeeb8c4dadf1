using System.Net.WebSockets;
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
    private readonly bool _envelope;
    private readonly Sending.MessageSender _sender;
    private readonly ILogger _logger;
    private readonly string _name;

    public IncomingFilter(ReconnectingWebSocketOptions options, Outbox? outbox, RequestTable? requests, Sending.MessageSender sender, EventStream<DroppedMessage> dropped, ILogger logger, string name)
    {
        _envelope = options.Envelope is not null;
        _sender = sender;
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

        if (_envelope)
        {
            _readAck = null; // the envelope reads its own frames
            _readCorrelationId = null;
            _readMessageId = null;
        }

        _dropped = dropped;
        _logger = logger;
        _name = name;
    }

    public static bool IsNeeded(ReconnectingWebSocketOptions options) =>
        options.Delivery is not null || options.Requests is not null || options.Deduplication is not null || options.Envelope is not null;

    /// <summary>The message to publish (the message itself, or an envelope's body), or null when it was consumed.</summary>
    public WebSocketMessage? Filter(WebSocketMessage message)
    {
        if (_envelope)
        {
            return message.MessageType == WebSocketMessageType.Text && EnvelopeCodec.Read(message.Data.Span) is { } frame ? Open(frame, message) : message;
        }

        return ShouldPublish(message) ? message : null;
    }

    /// <summary>An envelope frame: acks settle the outbox, responses go to their requests, the server's reliable messages
    /// are acknowledged (repeats too: the server resends because our ack was lost) and de-duplicated; the app gets bodies.</summary>
    private WebSocketMessage? Open(EnvelopeFrame frame, WebSocketMessage message)
    {
        switch (frame.Type)
        {
            case EnvelopeType.Ack or EnvelopeType.Nack:
                _outbox!.Acknowledge(frame.Type == EnvelopeType.Ack ? MessageAck.Accepted(frame.Id!) : MessageAck.Rejected(frame.Id!, frame.Error));
                return _publishAcks ? message : null;
            case EnvelopeType.Response:
                var response = new WebSocketMessage(frame.Body ?? string.Empty);
                return _requests!.TryComplete(frame.Id!, response) && !_publishResponses ? null : response;
            case EnvelopeType.Message:
                if (frame.AckRequested)
                {
                    _sender.TryEnqueue(Sending.Payloads.Borrow(EnvelopeWriter.Ack(frame.Id!), WebSocketMessageType.Text, completion: null));
                }

                if (frame.Id is { } id && !_deduplicator!.IsFirst(id))
                {
                    _dropped.Publish(new DroppedMessage(MessageDirection.Incoming, message.MessageType, message.ByteLength, DropReason.Duplicate) { MessageId = id });
                    return null;
                }

                return new WebSocketMessage(frame.Body ?? string.Empty);
            default:
                return message;
        }
    }

    private bool ShouldPublish(WebSocketMessage message)
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
