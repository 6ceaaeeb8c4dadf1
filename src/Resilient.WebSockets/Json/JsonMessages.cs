using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Resilient.WebSockets.Internal;

namespace Resilient.WebSockets.Json;

/// <summary>
/// <c>messages.Json&lt;T&gt;()</c>: each message parsed as <typeparamref name="T"/>; one that does not parse is skipped
/// (the subscription lives on) and goes to <c>onError</c>, or without one is reported by the client that published it.
/// </summary>
internal sealed class JsonMessages<T> : IObservable<T>
{
    private readonly IObservable<WebSocketMessage> _source;
    private readonly JsonTypeInfo<T> _typeInfo;
    private readonly Action<JsonMessageError>? _onError;

    public JsonMessages(IObservable<WebSocketMessage> source, JsonTypeInfo<T> typeInfo, Action<JsonMessageError>? onError)
    {
        _source = source;
        _typeInfo = typeInfo;
        _onError = onError;
    }

    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);

        // Straight on a client's Messages, that client is known now (it stays known after an ObserveOn downstream);
        // after other operators, the client publishing on the thread is asked at each message.
        var client = (_source as Broadcast<WebSocketMessage>)?.Owner as ReconnectingWebSocket;
        return _source.Subscribe(new Parser(observer, _typeInfo, _onError, client));
    }

    /// <summary>Parses <paramref name="message"/>: true with the value, or false with what went wrong (JSON null for a
    /// type that is not nullable counts as wrong: an event stream of nulls only moves the exception into the observer).</summary>
    internal static bool TryParse(WebSocketMessage message, JsonTypeInfo<T> typeInfo, out T value, out JsonException? error)
    {
        try
        {
            var parsed = message.Deserialize(typeInfo);
            if (parsed is null && default(T) is null && Nullable.GetUnderlyingType(typeof(T)) is null)
            {
                value = default!;
                error = new JsonException(SR.Format(SR.JsonNull, typeof(T).Name), "$", 0, 0);
                return false;
            }

            value = parsed!;
            error = null;
            return true;
        }
        catch (JsonException ex)
        {
            value = default!;
            error = ex;
            return false;
        }
#pragma warning disable CA1031 // A converter's own exception (a FormatException of bad input, invalid UTF-8) is bad input too.
        catch (Exception ex) when (ex is not (NotSupportedException or OutOfMemoryException))
#pragma warning restore CA1031
        {
            value = default!;
            error = new JsonException($"The message could not be read as {typeof(T).Name}: {ex.GetType().Name}.", ex);
            return false;
        }
    }

    private sealed class Parser(IObserver<T> observer, JsonTypeInfo<T> typeInfo, Action<JsonMessageError>? onError, ReconnectingWebSocket? client)
        : IObserver<WebSocketMessage>
    {
        public void OnNext(WebSocketMessage value)
        {
            if (!TryParse(value, typeInfo, out var parsed, out var error))
            {
                Report(value, error!);
                return;
            }

            observer.OnNext(parsed); // outside the try: an exception of the observer is the observer's, not bad input
        }

        public void OnError(Exception error) => observer.OnError(error);

        public void OnCompleted() => observer.OnCompleted();

        private void Report(WebSocketMessage message, JsonException error)
        {
            if (onError is not null)
            {
                onError(new JsonMessageError(message, error));
            }
            else if ((client ?? Publisher.Current as ReconnectingWebSocket) is { } publisher)
            {
                publisher.ReportInvalidJson(message, error, typeof(T));
            }
            else
            {
                // Not on a client's stream (a stream of the app's own, or after ObserveOn): nobody to log to but the trace.
                Trace.TraceWarning($"A {message} is not JSON for {typeof(T).Name} ({JsonErrors.Where(error)}); the Json<{typeof(T).Name}> subscription skipped it. Give Json<T> an onError to handle such messages.");
            }
        }
    }
}
