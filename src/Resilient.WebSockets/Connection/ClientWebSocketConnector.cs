using System.Net;
using System.Net.WebSockets;

namespace Resilient.WebSockets.Connection;

/// <summary>The default connector: a new <see cref="ClientWebSocket"/> per attempt, keep-alive from the options, then
/// <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/> (which may override anything set here).</summary>
internal sealed class ClientWebSocketConnector : IWebSocketConnector
{
    private readonly ReconnectingWebSocketOptions _options;

    public ClientWebSocketConnector(ReconnectingWebSocketOptions options) => _options = options;

    public async ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
#if NET9_0_OR_GREATER
            if (_options.KeepAliveInterval > TimeSpan.Zero)
            {
                socket.Options.KeepAliveTimeout = _options.KeepAliveTimeout;
            }
#endif
            _options.ConfigureWebSocket?.Invoke(socket.Options);
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (WebSocketException ex) when (socket.HttpStatusCode is not 0 and not HttpStatusCode.SwitchingProtocols)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new WebSocketHandshakeException(status, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
