using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Delivery;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets;

/// <content>Acknowledged delivery: the outbox of reliable messages (see <see cref="DeliveryOptions"/>).</content>
public sealed partial class ReconnectingWebSocket
{
    /// <summary>The longest message id, in characters.</summary>
    public const int MaxMessageIdLength = 1024;

    /// <summary>Reliable messages accepted and not yet acknowledged, rejected or given up (0 without <see cref="ReconnectingWebSocketOptions.Delivery"/>).</summary>
    public int OutboxCount => _outbox?.Count ?? 0;

    /// <summary>Every reliable message the server acknowledged, with how many writes it took and how long from acceptance.
    /// Completes on dispose.</summary>
    /// <remarks>Delivered through the client's event pump (see <see cref="StateChanges"/>).</remarks>
    public IObservable<AcknowledgedMessage> Acknowledged => _events.Acknowledged;

    /// <summary>
    /// Sends a text message that the server must acknowledge, and completes when it has. Until then the message stays in
    /// the outbox: it is written again after every reconnect and after each <see cref="DeliveryOptions.AckTimeout"/>,
    /// up to <see cref="DeliveryOptions.MaxAttempts"/> writes.
    /// </summary>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <param name="messageId">The id the server's ack will name (see <see cref="DeliveryOptions.ReadAck"/>); unique among the messages in the outbox.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the outbox (or for the store), and then waiting for the
    /// ack. Once accepted, the message is not withdrawn: it may already be on its way, so it stays in the outbox and its
    /// outcome is still published on <see cref="Acknowledged"/> or <see cref="Dropped"/>.</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="messageId"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="messageId"/> is empty or longer than <see cref="MaxMessageIdLength"/>,
    /// already in the outbox (the task faults), or the message is larger than <see cref="DeliveryOptions.MaxBytes"/> (the task faults).</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    /// <exception cref="MessageDroppedException">The server rejected the message (<see cref="DropReason.Rejected"/>), it was given up
    /// (<see cref="DropReason.NotAcknowledged"/>), the outbox was full with <see cref="OutboxFullMode.Fail"/>, or the client was
    /// disposed without a store (the task faults).</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults; with a store, the message stays stored for the next start).</exception>
    public ValueTask SendReliableAsync(string text, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var outbox = RequireOutbox(messageId, nameof(SendReliableAsync));
        return ReliableAsync(outbox, ReliableText(text, messageId), WebSocketMessageType.Text, messageId, waitForAck: true, cancellationToken);
    }

    /// <summary>Sends a message of bytes that the server must acknowledge; see <see cref="SendReliableAsync(string, string, CancellationToken)"/>.</summary>
    /// <param name="data">The payload; copied, so the caller may reuse it at once.</param>
    /// <param name="messageType">Binary or Text (then <paramref name="data"/> must be UTF-8).</param>
    /// <param name="messageId">The id the server's ack will name.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack (the message is not withdrawn).</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not Text or Binary.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="messageId"/> is null.</exception>
    /// <exception cref="ArgumentException">See <see cref="SendReliableAsync(string, string, CancellationToken)"/>.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    /// <exception cref="MessageDroppedException">See <see cref="SendReliableAsync(string, string, CancellationToken)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    public ValueTask SendReliableAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, string messageId, CancellationToken cancellationToken = default)
    {
        ValidateMessageType(messageType);
        var outbox = RequireOutbox(messageId, nameof(SendReliableAsync));
        return ReliableAsync(outbox, data.ToArray(), messageType, messageId, waitForAck: true, cancellationToken);
    }

    /// <summary>
    /// Puts a text message that the server must acknowledge into the outbox, and completes once it is accepted (stored,
    /// with a <see cref="DeliveryOptions.Store"/>). Its outcome is published on <see cref="Acknowledged"/>, or on
    /// <see cref="Dropped"/> if it is rejected or given up.
    /// </summary>
    /// <param name="text">The text, sent as UTF-8.</param>
    /// <param name="messageId">The id the server's ack will name; unique among the messages in the outbox.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the outbox, or for the store (the message is then not accepted).</param>
    /// <returns>A task that completes when the message is accepted.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="messageId"/> is null.</exception>
    /// <exception cref="ArgumentException">See <see cref="SendReliableAsync(string, string, CancellationToken)"/>.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    /// <exception cref="MessageDroppedException">The outbox was full with <see cref="OutboxFullMode.Fail"/> (the task faults).</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    public ValueTask EnqueueReliableAsync(string text, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var outbox = RequireOutbox(messageId, nameof(EnqueueReliableAsync));
        return ReliableAsync(outbox, ReliableText(text, messageId), WebSocketMessageType.Text, messageId, waitForAck: false, cancellationToken);
    }

    /// <summary>Puts a message of bytes that the server must acknowledge into the outbox; see <see cref="EnqueueReliableAsync(string, string, CancellationToken)"/>.</summary>
    /// <param name="data">The payload; copied, so the caller may reuse it at once.</param>
    /// <param name="messageType">Binary or Text (then <paramref name="data"/> must be UTF-8).</param>
    /// <param name="messageId">The id the server's ack will name.</param>
    /// <param name="cancellationToken">Cancels waiting for room, or for the store.</param>
    /// <returns>A task that completes when the message is accepted.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="messageType"/> is not Text or Binary.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="messageId"/> is null.</exception>
    /// <exception cref="ArgumentException">See <see cref="SendReliableAsync(string, string, CancellationToken)"/>.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    /// <exception cref="MessageDroppedException">The outbox was full with <see cref="OutboxFullMode.Fail"/> (the task faults).</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    public ValueTask EnqueueReliableAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, string messageId, CancellationToken cancellationToken = default)
    {
        ValidateMessageType(messageType);
        var outbox = RequireOutbox(messageId, nameof(EnqueueReliableAsync));
        return ReliableAsync(outbox, data.ToArray(), messageType, messageId, waitForAck: false, cancellationToken);
    }

    /// <summary>
    /// Sends a text request and returns the first incoming message that carries its correlation id (read by
    /// <see cref="RequestOptions.ReadCorrelationId"/>). The request goes through the send queue like
    /// <see cref="SendAsync(string, CancellationToken)"/>; the response is not published on <see cref="Messages"/> unless
    /// <see cref="RequestOptions.PublishResponses"/>.
    /// </summary>
    /// <param name="text">The request, sent as UTF-8.</param>
    /// <param name="correlationId">The id the response will carry; unique among the requests waiting.</param>
    /// <param name="timeout">How long to wait from this call, outages included; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request: a request not yet written is withdrawn.</param>
    /// <returns>The response.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> or <paramref name="correlationId"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="correlationId"/> is empty, longer than <see cref="MaxMessageIdLength"/>,
    /// or already waiting (the task faults).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not greater than zero.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Requests"/>.</exception>
    /// <exception cref="TimeoutException">No response came within the timeout (the task faults).</exception>
    /// <exception cref="WebSocketException">The session was lost after the request was written, with
    /// <see cref="RequestDisconnectMode.Fail"/> (the task faults).</exception>
    /// <exception cref="MessageDroppedException">The request's message was dropped before it was written (the task faults).</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    public ValueTask<WebSocketMessage> RequestAsync(string text, string correlationId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var requests = PrepareRequest(correlationId, timeout);
        var wire = _envelope is null ? Encoding.UTF8.GetBytes(text) : EnvelopeCodec.Write(EnvelopeType.Request, correlationId, text);
        return RequestCoreAsync(requests, wire, correlationId, timeout, cancellationToken);
    }

    /// <summary>A request of serialized JSON (see <see cref="WebSocketJsonExtensions"/>); null <paramref name="correlationId"/>
    /// numbers it with the envelope. The caller still owns <paramref name="json"/>.</summary>
    internal ValueTask<WebSocketMessage> RequestJsonAsync(in Json.JsonPayload json, string? correlationId, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (correlationId is null)
        {
            var envelope = _envelope ?? throw new InvalidOperationException(SR.Format(SR.EnvelopeOff, "RequestJsonAsync"));
            correlationId = envelope.NextId();
        }

        var requests = PrepareRequest(correlationId, timeout);
        var wire = _envelope is null ? json.ToArray() : EnvelopeCodec.Write(EnvelopeType.Request, correlationId, json.ToText());
        return RequestCoreAsync(requests, wire, correlationId, timeout, cancellationToken);
    }

    /// <summary>A reliable message of serialized JSON; null <paramref name="messageId"/> numbers it with the envelope.
    /// The caller still owns <paramref name="json"/>: everything it needs is copied before this returns.</summary>
    internal ValueTask SendReliableJsonAsync(in Json.JsonPayload json, string? messageId, CancellationToken cancellationToken)
    {
        if (messageId is null)
        {
            return SendReliableAsync(json.ToText(), cancellationToken); // the envelope's own numbering (or its clear error)
        }

        return _envelope is null
            ? SendReliableAsync(json.Memory, WebSocketMessageType.Text, messageId, cancellationToken)
            : SendReliableAsync(json.ToText(), messageId, cancellationToken);
    }

    private RequestTable PrepareRequest(string correlationId, TimeSpan? timeout)
    {
        ValidateId(correlationId, nameof(correlationId));
        if (timeout is { } wait && wait <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), wait, SR.Format(SR.TimeSpanNotPositive, "request timeout", wait, string.Empty));
        }

        return _requests ?? throw new InvalidOperationException(SR.RequestsOff);
    }

    /// <summary>
    /// With <see cref="ReconnectingWebSocketOptions.Envelope"/>: sends a text request, numbered by the client, and returns
    /// the body of its response; see <see cref="RequestAsync(string, string, TimeSpan?, CancellationToken)"/>.
    /// </summary>
    /// <param name="text">The request's body.</param>
    /// <param name="timeout">How long to wait from this call; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request: a request not yet written is withdrawn.</param>
    /// <returns>The response's body, as a text message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not greater than zero.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    /// <exception cref="TimeoutException">No response came within the timeout (the task faults).</exception>
    public ValueTask<WebSocketMessage> RequestAsync(string text, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var envelope = _envelope ?? throw new InvalidOperationException(SR.Format(SR.EnvelopeOff, nameof(RequestAsync)));
        return RequestAsync(text, envelope.NextId(), timeout, cancellationToken);
    }

    /// <summary>
    /// With <see cref="ReconnectingWebSocketOptions.Envelope"/>: sends a text message, numbered by the client, that the
    /// server must acknowledge, and completes when it has; see <see cref="SendReliableAsync(string, string, CancellationToken)"/>.
    /// </summary>
    /// <param name="text">The message's body.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack (the message is not withdrawn).</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    /// <exception cref="MessageDroppedException">See <see cref="SendReliableAsync(string, string, CancellationToken)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    public ValueTask SendReliableAsync(string text, CancellationToken cancellationToken = default)
    {
        var envelope = _envelope ?? throw new InvalidOperationException(SR.Format(SR.EnvelopeOff, nameof(SendReliableAsync)));
        return SendReliableAsync(text, envelope.NextId(), cancellationToken);
    }

    /// <summary>
    /// With <see cref="ReconnectingWebSocketOptions.Envelope"/>: puts a text message, numbered by the client, that the
    /// server must acknowledge into the outbox; see <see cref="EnqueueReliableAsync(string, string, CancellationToken)"/>.
    /// </summary>
    /// <param name="text">The message's body.</param>
    /// <param name="cancellationToken">Cancels waiting for room, or for the store.</param>
    /// <returns>A task that completes when the message is accepted.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    /// <exception cref="MessageDroppedException">The outbox was full with <see cref="OutboxFullMode.Fail"/> (the task faults).</exception>
    /// <exception cref="ObjectDisposedException">The client is disposed (the task faults).</exception>
    public ValueTask EnqueueReliableAsync(string text, CancellationToken cancellationToken = default)
    {
        var envelope = _envelope ?? throw new InvalidOperationException(SR.Format(SR.EnvelopeOff, nameof(EnqueueReliableAsync)));
        return EnqueueReliableAsync(text, envelope.NextId(), cancellationToken);
    }

    private async ValueTask<WebSocketMessage> RequestCoreAsync(RequestTable requests, byte[] wire, string correlationId, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long started = _options.TimeProvider.GetTimestamp();
        using var activity = _metrics.StartActivity("websocket.request", ActivityKind.Client);
        try
        {
            using var request = requests.Register(correlationId, timeout, () => SendAsync(wire, WebSocketMessageType.Text, CancellationToken.None).AsTask(), cancellationToken);
            request.Track(SendAsync(wire, WebSocketMessageType.Text, cancellationToken).AsTask());
            var response = await request.Response.Task.ConfigureAwait(false);
            _metrics.RequestEnded(_options.TimeProvider.GetElapsedTime(started), error: null);
            return response;
        }
        catch (Exception ex)
        {
            _metrics.RequestEnded(_options.TimeProvider.GetElapsedTime(started), ex);
            ClientMetrics.Fail(activity, ex);
            throw;
        }
    }

    /// <summary>A reliable text message as it is kept and written: its UTF-8, or with the envelope a <c>msg</c> frame with its id.</summary>
    private byte[] ReliableText(string text, string messageId) => _envelope is null
        ? Encoding.UTF8.GetBytes(text)
        : EnvelopeCodec.Write(EnvelopeType.Message, messageId, text, ack: true);

    private static void ValidateId(string id, string paramName)
    {
        ArgumentNullException.ThrowIfNull(id, paramName);
        if (id.Length is 0 or > MaxMessageIdLength)
        {
            throw new ArgumentException(SR.Format(SR.MessageIdInvalid, id.Length, MaxMessageIdLength), paramName);
        }
    }

    private Outbox RequireOutbox(string messageId, string caller)
    {
        ValidateId(messageId, nameof(messageId));
        return _outbox ?? throw new InvalidOperationException(SR.Format(SR.DeliveryOff, caller));
    }

    private async ValueTask ReliableAsync(Outbox outbox, byte[] data, WebSocketMessageType messageType, string messageId, bool waitForAck, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _events.Pump.WaitForRoom(); // bounds the reports still waiting for the observers (see EventPump)
        using var activity = _metrics.StartActivity("websocket.send_reliable", ActivityKind.Producer);
        activity?.SetTag("websocket.reliable.wait_for_ack", waitForAck);
        ReliableMessage message;
        try
        {
            message = await outbox.AcceptAsync(messageId, messageType, data, waitForAck, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ClientMetrics.Fail(activity, ex);
            throw;
        }

        if (message.Outcome is not { } outcome)
        {
            return;
        }

        try
        {
            await outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || outcome.Task.IsCompleted)
        {
            ClientMetrics.Fail(activity, ex);
            throw;
        }
        catch (OperationCanceledException) when (!outcome.Task.IsCompleted)
        {
            ClientMetrics.Fail(activity, "cancelled");
            // The caller stopped waiting; the message lives on. Its fault, if it comes, is reported on Dropped: observe it here.
            _ = outcome.Task.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }
}
