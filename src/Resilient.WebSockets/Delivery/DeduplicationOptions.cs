namespace Resilient.WebSockets;

/// <summary>
/// Inbound de-duplication: an incoming message whose id (read by <see cref="ReadMessageId"/>) was already seen within the
/// window is not published, and is reported on <see cref="ReconnectingWebSocket.Dropped"/> (incoming,
/// <see cref="DropReason.Duplicate"/>, with its id). For servers that deliver at least once: a message resent after a
/// reconnect reaches the app once.
/// </summary>
/// <remarks>The window is bounded both ways: the most recent <see cref="Capacity"/> ids, each for at most
/// <see cref="Window"/>. It lives as long as the client, so it spans reconnects (not restarts of the app).</remarks>
public sealed class DeduplicationOptions
{
    /// <summary>Reads a message's id, or null for a message that has none (it is always published). Required.</summary>
    /// <remarks>Called on the receive loop for every incoming message; one that throws is logged and the message is published.</remarks>
    public Func<WebSocketMessage, string?>? ReadMessageId { get; set; }

    /// <summary>How many recent ids are remembered.</summary>
    /// <value>Default: 10 000. Between 1 and 1 000 000.</value>
    public int Capacity { get; set; } = 10_000;

    /// <summary>How long an id is remembered.</summary>
    /// <value>Default: 5 minutes. Greater than zero.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    internal DeduplicationOptions Clone() => (DeduplicationOptions)MemberwiseClone();
}

/// <summary>
/// Request/response over the socket (<see cref="ReconnectingWebSocket.RequestAsync(string, string, TimeSpan?, CancellationToken)"/>):
/// the first incoming message that carries the request's correlation id is its response.
/// </summary>
public sealed class RequestOptions
{
    /// <summary>Reads the correlation id of an incoming message, or null when it is not a response. Required.</summary>
    /// <remarks>Called on the receive loop for every incoming message; one that throws is logged and the message is published.</remarks>
    public Func<WebSocketMessage, string?>? ReadCorrelationId { get; set; }

    /// <summary>How long a request waits for its response, from the call (outages included), unless the call gives its own.</summary>
    /// <value>Default: 10 seconds. Greater than zero.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What happens to a request that was written when its session is lost before the response came.</summary>
    /// <value>Default: <see cref="RequestDisconnectMode.Fail"/>.</value>
    public RequestDisconnectMode OnDisconnect { get; set; } = RequestDisconnectMode.Fail;

    /// <summary>Whether responses are also published on <see cref="ReconnectingWebSocket.Messages"/>. A response nobody
    /// waits for (late, after its timeout, or unknown) is always published.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool PublishResponses { get; set; }

    internal RequestOptions Clone() => (RequestOptions)MemberwiseClone();
}

/// <summary>What a lost session does to a request that was written and not yet answered.</summary>
public enum RequestDisconnectMode
{
    /// <summary>The request fails with a <see cref="System.Net.WebSockets.WebSocketException"/> (the server may or may not have acted on it).</summary>
    Fail = 0,

    /// <summary>The request is written again after the reconnect (for requests the server may safely see twice), within its timeout.</summary>
    Resend = 1,
}
