using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Delivery;

/// <summary>
/// What the receive loop asks of every incoming message before it is published, when delivery features are on: is it
/// an ack (settled in the outbox, and not published unless <see cref="DeliveryOptions.PublishAcks"/>)?
/// </summary>
/// <remarks>Runs on the receive loop, outside every lock of the client; the app's reader is user code, so one that
/// throws is logged and the message is published as an ordinary one.</remarks>
internal sealed class IncomingFilter
{
    private readonly Outbox _outbox;
    private readonly Func<WebSocketMessage, MessageAck?> _readAck;
    private readonly bool _publishAcks;
    private readonly ILogger _logger;
    private readonly string _name;

    public IncomingFilter(Outbox outbox, DeliveryOptions delivery, ILogger logger, string name)
    {
        _outbox = outbox;
        _readAck = delivery.ReadAck!;
        _publishAcks = delivery.PublishAcks;
        _logger = logger;
        _name = name;
    }

    public bool ShouldPublish(WebSocketMessage message)
    {
        MessageAck? ack;
        try
        {
            ack = _readAck(message);
        }
#pragma warning disable CA1031 // The app's reader must not end the receive loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AckReaderFailed(_logger, _name, message.MessageType, message.ByteLength, ex);
            return true;
        }

        if (ack is not { } found)
        {
            return true;
        }

        _outbox.Acknowledge(found);
        return _publishAcks;
    }
}
