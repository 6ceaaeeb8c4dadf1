using System.Globalization;

namespace Resilient.WebSockets;

/// <summary>Describes a successful connect, published on <see cref="ReconnectingWebSocket.Connected"/>.</summary>
/// <param name="Attempt">The 1-based number of the attempt that succeeded, counted within this outage.</param>
/// <param name="IsReconnect"><see langword="true"/> for every connect after the first of a run started by <see cref="ReconnectingWebSocket.StartAsync"/>.</param>
/// <param name="Downtime">How long the client had no session: from the loss of the previous session to this connect; zero for the first connect.</param>
/// <param name="Uri">The endpoint connected to (the one <see cref="ReconnectingWebSocketOptions.UriFactory"/> picked, if set).</param>
public sealed record ConnectedInfo(int Attempt, bool IsReconnect, TimeSpan Downtime, Uri Uri)
{
    /// <summary>The HTTP version of the handshake: 1.1, or 2.0 for a WebSocket over HTTP/2 (RFC 8441, asked for with
    /// <see cref="System.Net.WebSockets.ClientWebSocketOptions.HttpVersion"/>); null when it is not known (a custom
    /// connector's socket that is not a <see cref="System.Net.WebSockets.ClientWebSocket"/>, or one that does not
    /// collect the response details).</summary>
    public Version? HttpVersion { get; init; }

    /// <summary>The sub-protocol the server chose among those the client offered; null when none was agreed.</summary>
    public string? SubProtocol { get; init; }

    /// <summary>Describes the connect for a person, without the query string or user info of <see cref="Uri"/>
    /// (tokens often live there).</summary>
    /// <returns>For example "Reconnected to wss://example.com/feed on attempt 2 after 3.1 s down", with " over HTTP/2"
    /// and " (sub-protocol chat.v2)" when they apply.</returns>
    public override string ToString()
    {
        string connected = IsReconnect
            ? string.Create(CultureInfo.InvariantCulture, $"Reconnected to {Redaction.Endpoint(Uri)} on attempt {Attempt} after {Describe.Duration(Downtime)} down")
            : string.Create(CultureInfo.InvariantCulture, $"Connected to {Redaction.Endpoint(Uri)} on attempt {Attempt}");
        string over = HttpVersion is { Major: >= 2 } version ? string.Create(CultureInfo.InvariantCulture, $" over HTTP/{version.Major}") : "";
        string protocol = SubProtocol is { Length: > 0 } name ? $" (sub-protocol {name})" : "";
        return connected + over + protocol;
    }
}
