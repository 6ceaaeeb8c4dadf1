using System.Net.WebSockets;
using System.Text.Json;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Json;

namespace Resilient.WebSockets;

/// <content>Typed JSON: what <see cref="WebSocketJsonExtensions"/> needs of the client.</content>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>Queues serialized JSON as a text message, like <see cref="SendAsync(string, CancellationToken)"/>; the
    /// queue owns <paramref name="json"/>'s buffer from here on (given back after the write, or now if refused).</summary>
    internal ValueTask SendJsonAsync(JsonPayload json, CancellationToken cancellationToken)
    {
        if (Admit(WebSocketMessageType.Text, json.Length, cancellationToken) is { } ended)
        {
            json.Dispose();
            return new ValueTask(ended);
        }

        return _sender.SendAsync(Outgoing(ref json), cancellationToken);
    }

    /// <summary>Queues serialized JSON if there is room now, like <see cref="TryEnqueue(string)"/>; the buffer is the
    /// queue's from here on.</summary>
    internal bool TryEnqueueJson(JsonPayload json)
    {
        if (!CanEnqueue(WebSocketMessageType.Text, json.Length))
        {
            json.Dispose();
            return false;
        }

        return _sender.TryEnqueue(Outgoing(ref json));
    }

    /// <summary>Reports an incoming message that a <c>Json&lt;T&gt;</c> subscription without an <c>onError</c> could not
    /// parse: a warning in the log and a drop on <see cref="Dropped"/> (counted by the metrics), with the type and where
    /// the JSON went wrong, never the payload. Runs on the thread delivering the message, under no lock of the client.</summary>
    internal void ReportInvalidJson(WebSocketMessage message, Exception error, Type type)
    {
        string where = JsonErrors.Where(error);
        int length = message.ByteLength;
        Log.InvalidJson(_logger, Name, message.MessageType, length, type.Name, where);
        _events.Dropped.Publish(new DroppedMessage(MessageDirection.Incoming, message.MessageType, length, DropReason.InvalidJson)
        {
            Detail = SR.Format(SR.JsonInvalidDetail, type.Name, where),
        });
    }

    /// <summary>The message as it goes out: the JSON's own pooled buffer, or with the envelope a <c>msg</c> frame around its text.</summary>
    private Sending.OutgoingMessage Outgoing(ref JsonPayload json)
    {
        if (_envelope is null)
        {
            return json.ToOutgoing();
        }

        string text = json.ToText();
        json.Dispose();
        return TextPayload(text);
    }
}
