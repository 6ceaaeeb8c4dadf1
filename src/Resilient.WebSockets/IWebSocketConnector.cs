using System.Net.WebSockets;

namespace Resilient.WebSockets;

/// <summary>
/// Opens one WebSocket per connect attempt. The default connector creates a new
/// <see cref="ClientWebSocket"/> for every attempt and applies
/// <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/> to it.
/// </summary>
/// <remarks>
/// Supply your own (through <see cref="ReconnectingWebSocketOptions.Connector"/>) to connect through a
/// different transport, or to hand a test an in-memory socket made by <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>.
/// A refused handshake should throw <see cref="WebSocketHandshakeException"/> so that the reconnect policy can tell
/// an authentication failure from a passing fault.
/// </remarks>
public interface IWebSocketConnector
{
    /// <summary>Opens a WebSocket to <paramref name="uri"/>.</summary>
    /// <param name="uri">The endpoint of this attempt.</param>
    /// <param name="cancellationToken">Cancelled when the attempt times out or the client stops.</param>
    /// <returns>An open WebSocket (state <see cref="WebSocketState.Open"/>), owned by the caller from then on.</returns>
    ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken);
}
