using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Resilient.WebSockets.Json;

namespace Resilient.WebSockets;

/// <summary>
/// Typed JSON messages: send a value as a JSON text message, and read messages as values, with a subscription that
/// survives bad input.
/// </summary>
/// <remarks>
/// <para>Each method comes in three forms. With a <see cref="JsonTypeInfo{T}"/> (from a source-generated
/// <see cref="JsonSerializerContext"/>, such as <c>AppJson.Default.Quote</c>), and with the context itself: both are
/// trim- and native-AOT-safe. With <see cref="JsonSerializerOptions"/> (or none: <see cref="JsonSerializerOptions.Default"/>)
/// for apps that use reflection; those are marked as needing unreferenced code and dynamic code.</para>
/// <para>Sends serialize at the call, straight into a pooled UTF-8 buffer (no string in between) that the send queue
/// gives back after the write; a value the serializer refuses throws at the call (<see cref="NotSupportedException"/>,
/// <see cref="JsonException"/>) and nothing is queued. With <see cref="ReconnectingWebSocketOptions.Envelope"/>, the
/// JSON is the envelope's body, as with the text overloads.</para>
/// <para>Reads parse the bytes or the text the message already holds (no copy, no string for binary messages).</para>
/// </remarks>
public static class WebSocketJsonExtensions
{
    private const string ReflectionCode = "Serializes with reflection, which trimming may break. Use the overload that takes a JsonTypeInfo<T> or a JsonSerializerContext.";
    private const string DynamicCode = "Serializes with reflection, which may need code generated at run time. Use the overload that takes a JsonTypeInfo<T> or a JsonSerializerContext.";

    // ---- SendJsonAsync ----

    /// <summary>Serializes <paramref name="value"/> and sends it as a text message; see
    /// <see cref="ReconnectingWebSocket.SendAsync(string, CancellationToken)"/> for when it completes.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">How to serialize it (for example <c>AppJson.Default.Quote</c>).</param>
    /// <param name="cancellationToken">Cancels waiting for room, and withdraws the message if its write has not begun.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value (thrown at the call; nothing is queued).</exception>
    /// <exception cref="JsonException">The serializer failed on the value (a cycle, too deep; thrown at the call, nothing is queued).</exception>
    public static ValueTask SendJsonAsync<T>(this ReconnectingWebSocket client, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return client.SendJsonAsync(JsonPayload.Serialize(value, typeInfo), cancellationToken);
    }

    /// <summary>Serializes <paramref name="value"/> with <paramref name="context"/>'s metadata and sends it as a text message.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="context">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <param name="cancellationToken">Cancels waiting for room, and withdraws the message if its write has not begun.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="context"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no metadata for <typeparamref name="T"/>.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value.</exception>
    /// <exception cref="JsonException">The serializer failed on the value.</exception>
    public static ValueTask SendJsonAsync<T>(this ReconnectingWebSocket client, T value, JsonSerializerContext context, CancellationToken cancellationToken = default) =>
        client.SendJsonAsync(value, TypeInfo<T>(context), cancellationToken);

    /// <summary>Serializes <paramref name="value"/> with reflection and sends it as a text message.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Serializer options; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for room, and withdraws the message if its write has not begun.</param>
    /// <returns>A task that completes when the message is written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value.</exception>
    /// <exception cref="JsonException">The serializer failed on the value.</exception>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static ValueTask SendJsonAsync<T>(this ReconnectingWebSocket client, T value, JsonSerializerOptions? options = null, CancellationToken cancellationToken = default) =>
        client.SendJsonAsync(value, TypeInfo<T>(options), cancellationToken);

    // ---- TryEnqueueJson ----

    /// <summary>Serializes <paramref name="value"/> and queues it as a text message if there is room now; see
    /// <see cref="ReconnectingWebSocket.TryEnqueue(string)"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">How to serialize it.</param>
    /// <returns>True if the message was accepted; false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value (nothing is queued).</exception>
    /// <exception cref="JsonException">The serializer failed on the value (nothing is queued).</exception>
    public static bool TryEnqueueJson<T>(this ReconnectingWebSocket client, T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return client.TryEnqueueJson(JsonPayload.Serialize(value, typeInfo));
    }

    /// <summary>Serializes <paramref name="value"/> with <paramref name="context"/>'s metadata and queues it if there is room now.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="context">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <returns>True if the message was accepted; false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="context"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no metadata for <typeparamref name="T"/>.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value.</exception>
    /// <exception cref="JsonException">The serializer failed on the value.</exception>
    public static bool TryEnqueueJson<T>(this ReconnectingWebSocket client, T value, JsonSerializerContext context) =>
        client.TryEnqueueJson(value, TypeInfo<T>(context));

    /// <summary>Serializes <paramref name="value"/> with reflection and queues it if there is room now.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Serializer options; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <returns>True if the message was accepted; false if the queue is full or the client is disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value.</exception>
    /// <exception cref="JsonException">The serializer failed on the value.</exception>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static bool TryEnqueueJson<T>(this ReconnectingWebSocket client, T value, JsonSerializerOptions? options = null) =>
        client.TryEnqueueJson(value, TypeInfo<T>(options));

    // ---- SendReliableJsonAsync ----

    /// <summary>Serializes <paramref name="value"/> and sends it as a text message the server must acknowledge; see
    /// <see cref="ReconnectingWebSocket.SendReliableAsync(string, string, CancellationToken)"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="messageId">The id the server's ack will name.</param>
    /// <param name="typeInfo">How to serialize it.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack (the message is not withdrawn).</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/>, <paramref name="messageId"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value (nothing is accepted).</exception>
    /// <exception cref="JsonException">The serializer failed on the value (nothing is accepted).</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    public static ValueTask SendReliableJsonAsync<T>(this ReconnectingWebSocket client, T value, string messageId, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        return SendReliableJson(client, value, messageId, typeInfo, cancellationToken);
    }

    /// <summary>Serializes <paramref name="value"/> with <paramref name="context"/>'s metadata and sends it as a text
    /// message the server must acknowledge.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="messageId">The id the server's ack will name.</param>
    /// <param name="context">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack.</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/>, <paramref name="messageId"/> or <paramref name="context"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no metadata for <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    public static ValueTask SendReliableJsonAsync<T>(this ReconnectingWebSocket client, T value, string messageId, JsonSerializerContext context, CancellationToken cancellationToken = default) =>
        client.SendReliableJsonAsync(value, messageId, TypeInfo<T>(context), cancellationToken);

    /// <summary>Serializes <paramref name="value"/> with reflection and sends it as a text message the server must acknowledge.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value.</param>
    /// <param name="messageId">The id the server's ack will name.</param>
    /// <param name="options">Serializer options; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack.</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="messageId"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Delivery"/>.</exception>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static ValueTask SendReliableJsonAsync<T>(this ReconnectingWebSocket client, T value, string messageId, JsonSerializerOptions? options = null, CancellationToken cancellationToken = default) =>
        client.SendReliableJsonAsync(value, messageId, TypeInfo<T>(options), cancellationToken);

    /// <summary>With <see cref="ReconnectingWebSocketOptions.Envelope"/>: serializes <paramref name="value"/> and sends it,
    /// numbered by the client, as a message the server must acknowledge; see
    /// <see cref="ReconnectingWebSocket.SendReliableAsync(string, CancellationToken)"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value (the envelope's body).</param>
    /// <param name="typeInfo">How to serialize it.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack.</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    public static ValueTask SendReliableJsonAsync<T>(this ReconnectingWebSocket client, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default) =>
        SendReliableJson(client, value, messageId: null, typeInfo, cancellationToken);

    /// <summary>With <see cref="ReconnectingWebSocketOptions.Envelope"/>: serializes <paramref name="value"/> with
    /// <paramref name="context"/>'s metadata and sends it, numbered by the client, as a message the server must acknowledge.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="value">The value (the envelope's body).</param>
    /// <param name="context">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <param name="cancellationToken">Cancels waiting for room, then waiting for the ack.</param>
    /// <returns>A task that completes when the server acknowledged the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="context"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no metadata for <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    public static ValueTask SendReliableJsonAsync<T>(this ReconnectingWebSocket client, T value, JsonSerializerContext context, CancellationToken cancellationToken = default) =>
        SendReliableJson(client, value, messageId: null, TypeInfo<T>(context), cancellationToken);

    // ---- RequestJsonAsync ----

    /// <summary>Serializes <paramref name="request"/>, sends it as a request, and parses the first incoming message with its
    /// correlation id as <typeparamref name="TResponse"/>; see
    /// <see cref="ReconnectingWebSocket.RequestAsync(string, string, TimeSpan?, CancellationToken)"/>.</summary>
    /// <typeparam name="TRequest">The request's type.</typeparam>
    /// <typeparam name="TResponse">The response's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="request">The request.</param>
    /// <param name="correlationId">The id the response will carry.</param>
    /// <param name="requestTypeInfo">How to serialize the request.</param>
    /// <param name="responseTypeInfo">How to parse the response.</param>
    /// <param name="timeout">How long to wait from this call; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request: a request not yet written is withdrawn.</param>
    /// <returns>The parsed response (null if the response is JSON null).</returns>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="request"/> or <paramref name="timeout"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the request (nothing is sent).</exception>
    /// <exception cref="JsonException">The request could not be serialized (thrown at the call), or the response is not
    /// JSON for <typeparamref name="TResponse"/> (the task faults).</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Requests"/>.</exception>
    /// <exception cref="TimeoutException">No response came within the timeout (the task faults).</exception>
    public static ValueTask<TResponse?> RequestJsonAsync<TRequest, TResponse>(this ReconnectingWebSocket client, TRequest request, string correlationId,
        JsonTypeInfo<TRequest> requestTypeInfo, JsonTypeInfo<TResponse> responseTypeInfo, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(correlationId);
        return RequestJson(client, request, correlationId, requestTypeInfo, responseTypeInfo, timeout, cancellationToken);
    }

    /// <summary>Serializes <paramref name="request"/> with <paramref name="context"/>'s metadata, sends it as a request, and
    /// parses the response with the same context.</summary>
    /// <typeparam name="TRequest">The request's type.</typeparam>
    /// <typeparam name="TResponse">The response's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="request">The request.</param>
    /// <param name="correlationId">The id the response will carry.</param>
    /// <param name="context">A source-generated context with both types.</param>
    /// <param name="timeout">How long to wait from this call; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed response (null if the response is JSON null).</returns>
    /// <exception cref="ArgumentException"><paramref name="context"/> lacks one of the types.</exception>
    /// <exception cref="JsonException">The response is not JSON for <typeparamref name="TResponse"/> (the task faults).</exception>
    /// <exception cref="TimeoutException">No response came within the timeout (the task faults).</exception>
    public static ValueTask<TResponse?> RequestJsonAsync<TRequest, TResponse>(this ReconnectingWebSocket client, TRequest request, string correlationId,
        JsonSerializerContext context, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        client.RequestJsonAsync(request, correlationId, TypeInfo<TRequest>(context), TypeInfo<TResponse>(context), timeout, cancellationToken);

    /// <summary>Serializes <paramref name="request"/> with reflection, sends it as a request, and parses the response.</summary>
    /// <typeparam name="TRequest">The request's type.</typeparam>
    /// <typeparam name="TResponse">The response's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="request">The request.</param>
    /// <param name="correlationId">The id the response will carry.</param>
    /// <param name="options">Serializer options for both; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <param name="timeout">How long to wait from this call; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed response (null if the response is JSON null).</returns>
    /// <exception cref="JsonException">The response is not JSON for <typeparamref name="TResponse"/> (the task faults).</exception>
    /// <exception cref="TimeoutException">No response came within the timeout (the task faults).</exception>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static ValueTask<TResponse?> RequestJsonAsync<TRequest, TResponse>(this ReconnectingWebSocket client, TRequest request, string correlationId,
        JsonSerializerOptions? options = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        client.RequestJsonAsync(request, correlationId, TypeInfo<TRequest>(options), TypeInfo<TResponse>(options), timeout, cancellationToken);

    /// <summary>With <see cref="ReconnectingWebSocketOptions.Envelope"/>: serializes <paramref name="request"/> as the
    /// body of a request numbered by the client, and parses the body of its response.</summary>
    /// <typeparam name="TRequest">The request's type.</typeparam>
    /// <typeparam name="TResponse">The response's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="request">The request.</param>
    /// <param name="requestTypeInfo">How to serialize the request.</param>
    /// <param name="responseTypeInfo">How to parse the response.</param>
    /// <param name="timeout">How long to wait from this call; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed response (null if the response is JSON null).</returns>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    /// <exception cref="JsonException">The response is not JSON for <typeparamref name="TResponse"/> (the task faults).</exception>
    /// <exception cref="TimeoutException">No response came within the timeout (the task faults).</exception>
    public static ValueTask<TResponse?> RequestJsonAsync<TRequest, TResponse>(this ReconnectingWebSocket client, TRequest request,
        JsonTypeInfo<TRequest> requestTypeInfo, JsonTypeInfo<TResponse> responseTypeInfo, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RequestJson(client, request, correlationId: null, requestTypeInfo, responseTypeInfo, timeout, cancellationToken);

    /// <summary>With <see cref="ReconnectingWebSocketOptions.Envelope"/>: as the overload with type infos, with both types from <paramref name="context"/>.</summary>
    /// <typeparam name="TRequest">The request's type.</typeparam>
    /// <typeparam name="TResponse">The response's type.</typeparam>
    /// <param name="client">The client.</param>
    /// <param name="request">The request.</param>
    /// <param name="context">A source-generated context with both types.</param>
    /// <param name="timeout">How long to wait from this call; null for <see cref="RequestOptions.Timeout"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed response (null if the response is JSON null).</returns>
    /// <exception cref="ArgumentException"><paramref name="context"/> lacks one of the types.</exception>
    /// <exception cref="InvalidOperationException">The client has no <see cref="ReconnectingWebSocketOptions.Envelope"/>.</exception>
    public static ValueTask<TResponse?> RequestJsonAsync<TRequest, TResponse>(this ReconnectingWebSocket client, TRequest request,
        JsonSerializerContext context, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RequestJson(client, request, correlationId: null, TypeInfo<TRequest>(context), TypeInfo<TResponse>(context), timeout, cancellationToken);

    // ---- ConnectedContext ----

    /// <summary>Serializes <paramref name="value"/> and sends it on the new session, ahead of the queue; see
    /// <see cref="ConnectedContext.SendAsync(string, CancellationToken)"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="context">The hook's context.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">How to serialize it.</param>
    /// <param name="cancellationToken">Cancels the send; a cancelled send aborts the session.</param>
    /// <returns>A task that completes when the message has been written to the socket.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <exception cref="NotSupportedException">The serializer cannot serialize the value.</exception>
    /// <exception cref="JsonException">The serializer failed on the value.</exception>
    public static ValueTask SendJsonAsync<T>(this ConnectedContext context, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SendDirectAsync(context, JsonPayload.Serialize(value, typeInfo), cancellationToken);
    }

    /// <summary>Serializes <paramref name="value"/> with <paramref name="jsonContext"/>'s metadata and sends it on the new session.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="context">The hook's context.</param>
    /// <param name="value">The value.</param>
    /// <param name="jsonContext">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <param name="cancellationToken">Cancels the send; a cancelled send aborts the session.</param>
    /// <returns>A task that completes when the message has been written to the socket.</returns>
    /// <exception cref="ArgumentException"><paramref name="jsonContext"/> has no metadata for <typeparamref name="T"/>.</exception>
    public static ValueTask SendJsonAsync<T>(this ConnectedContext context, T value, JsonSerializerContext jsonContext, CancellationToken cancellationToken = default) =>
        context.SendJsonAsync(value, TypeInfo<T>(jsonContext), cancellationToken);

    /// <summary>Serializes <paramref name="value"/> with reflection and sends it on the new session.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="context">The hook's context.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">Serializer options; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the send; a cancelled send aborts the session.</param>
    /// <returns>A task that completes when the message has been written to the socket.</returns>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static ValueTask SendJsonAsync<T>(this ConnectedContext context, T value, JsonSerializerOptions? options = null, CancellationToken cancellationToken = default) =>
        context.SendJsonAsync(value, TypeInfo<T>(options), cancellationToken);

    // ---- ReadJson ----

    /// <summary>Parses one message as <typeparamref name="T"/>, from its UTF-8 bytes (binary) or its text.</summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="typeInfo">How to parse it.</param>
    /// <returns>The value; null if the message is JSON null.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <exception cref="JsonException">The message is not JSON for <typeparamref name="T"/>.</exception>
    public static T? ReadJson<T>(this WebSocketMessage message, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return message.Deserialize(typeInfo);
    }

    /// <summary>Parses one message as <typeparamref name="T"/> with <paramref name="context"/>'s metadata.</summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="context">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <returns>The value; null if the message is JSON null.</returns>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no metadata for <typeparamref name="T"/>.</exception>
    /// <exception cref="JsonException">The message is not JSON for <typeparamref name="T"/>.</exception>
    public static T? ReadJson<T>(this WebSocketMessage message, JsonSerializerContext context) =>
        message.ReadJson(TypeInfo<T>(context));

    /// <summary>Parses one message as <typeparamref name="T"/> with reflection.</summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="options">Serializer options; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <returns>The value; null if the message is JSON null.</returns>
    /// <exception cref="JsonException">The message is not JSON for <typeparamref name="T"/>.</exception>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static T? ReadJson<T>(this WebSocketMessage message, JsonSerializerOptions? options = null) =>
        message.ReadJson(TypeInfo<T>(options));

    // ---- Json<T> ----

    /// <summary>
    /// Each message parsed as <typeparamref name="T"/>. A message that does not parse (or is JSON null) is skipped and the
    /// subscription lives on: it goes to <paramref name="onError"/>; without one, the client that published it logs a
    /// warning (type, length, where the JSON went wrong; never the payload) and reports it on
    /// <see cref="ReconnectingWebSocket.Dropped"/> with <see cref="DropReason.InvalidJson"/>, which the metrics count.
    /// </summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="messages">A client's <see cref="ReconnectingWebSocket.Messages"/>, or a stream made from it.</param>
    /// <param name="typeInfo">How to parse each message.</param>
    /// <param name="onError">Called (on the delivering thread) for each message that does not parse; null to let the client report it.</param>
    /// <returns>The values, in arrival order, on the thread that delivers the messages.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> or <paramref name="typeInfo"/> is null.</exception>
    /// <remarks>The client is found from its own stream, or from the thread it delivers on, so operators such as
    /// <c>Where</c> may stand between. Put an <c>ObserveOn</c> after <c>Json</c>, not before it: a message on another
    /// thread has no client to report to, and without <paramref name="onError"/> it is only traced
    /// (<see cref="System.Diagnostics.Trace"/>).</remarks>
    public static IObservable<T> Json<T>(this IObservable<WebSocketMessage> messages, JsonTypeInfo<T> typeInfo, Action<JsonMessageError>? onError = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return new JsonMessages<T>(messages, typeInfo, onError);
    }

    /// <summary>Each message parsed as <typeparamref name="T"/> with <paramref name="context"/>'s metadata; see
    /// <see cref="Json{T}(IObservable{WebSocketMessage}, JsonTypeInfo{T}, Action{JsonMessageError}?)"/>.</summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="messages">A client's <see cref="ReconnectingWebSocket.Messages"/>, or a stream made from it.</param>
    /// <param name="context">A source-generated context with <c>[JsonSerializable(typeof(T))]</c>.</param>
    /// <param name="onError">Called for each message that does not parse; null to let the client report it.</param>
    /// <returns>The values, in arrival order.</returns>
    /// <exception cref="ArgumentException"><paramref name="context"/> has no metadata for <typeparamref name="T"/> (at the call).</exception>
    public static IObservable<T> Json<T>(this IObservable<WebSocketMessage> messages, JsonSerializerContext context, Action<JsonMessageError>? onError = null) =>
        messages.Json(TypeInfo<T>(context), onError);

    /// <summary>Each message parsed as <typeparamref name="T"/> with reflection; see
    /// <see cref="Json{T}(IObservable{WebSocketMessage}, JsonTypeInfo{T}, Action{JsonMessageError}?)"/>.</summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="messages">A client's <see cref="ReconnectingWebSocket.Messages"/>, or a stream made from it.</param>
    /// <param name="options">Serializer options; null for <see cref="JsonSerializerOptions.Default"/>.</param>
    /// <param name="onError">Called for each message that does not parse; null to let the client report it.</param>
    /// <returns>The values, in arrival order.</returns>
    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    public static IObservable<T> Json<T>(this IObservable<WebSocketMessage> messages, JsonSerializerOptions? options = null, Action<JsonMessageError>? onError = null) =>
        messages.Json(TypeInfo<T>(options), onError);

    // ---- helpers ----

    private static ValueTask SendReliableJson<T>(ReconnectingWebSocket client, T value, string? messageId, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(typeInfo);
        using var json = JsonPayload.Serialize(value, typeInfo);
        return client.SendReliableJsonAsync(json, messageId, cancellationToken); // copies what it keeps before it returns
    }

    private static ValueTask<TResponse?> RequestJson<TRequest, TResponse>(ReconnectingWebSocket client, TRequest request, string? correlationId,
        JsonTypeInfo<TRequest> requestTypeInfo, JsonTypeInfo<TResponse> responseTypeInfo, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(requestTypeInfo);
        ArgumentNullException.ThrowIfNull(responseTypeInfo);
        ValueTask<WebSocketMessage> response;
        using (var json = JsonPayload.Serialize(request, requestTypeInfo))
        {
            response = client.RequestJsonAsync(json, correlationId, timeout, cancellationToken); // copies the request before it returns
        }

        return ParseAsync(response, responseTypeInfo);

        static async ValueTask<TResponse?> ParseAsync(ValueTask<WebSocketMessage> response, JsonTypeInfo<TResponse> typeInfo) =>
            (await response.ConfigureAwait(false)).Deserialize(typeInfo);
    }

    private static async ValueTask SendDirectAsync(ConnectedContext context, JsonPayload json, CancellationToken cancellationToken)
    {
        try
        {
            await context.SendAsync(json.Memory, WebSocketMessageType.Text, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            json.Dispose();
        }
    }

    private static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
            ?? throw new ArgumentException(SR.Format(SR.JsonTypeMissing, context.GetType().Name, typeof(T).Name), nameof(context));
    }

    [RequiresUnreferencedCode(ReflectionCode)]
    [RequiresDynamicCode(DynamicCode)]
    private static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions? options)
    {
        options ??= JsonSerializerOptions.Default;
        if (!options.IsReadOnly)
        {
            options.MakeReadOnly(populateMissingResolver: true); // what JsonSerializer.Serialize(value, options) does: reflection when no resolver is set
        }

        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }
}
