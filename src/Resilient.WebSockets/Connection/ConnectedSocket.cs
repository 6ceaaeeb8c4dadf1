using System.Net.WebSockets;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>What a connect attempt made: the open socket, its coalescing transport (null on the runtime's own path or
/// with a custom connector), whether the runtime aborts it when a pong is late, and whether the client's own keep-alive
/// (<see cref="Health.KeepAliveMonitor"/> on the coalescer) replaces the runtime's, and the TCP user timeout set on its
/// connection (<see cref="Health.KeepAlive.TcpUserTimeout"/>), if any.</summary>
internal sealed record ConnectedSocket(WebSocket Socket, CoalescingStream? Coalescer, bool KeepAliveTimesOut, bool ClientKeepAlive = false, TimeSpan? TcpUserTimeout = null)
{
    /// <summary>The handshake's HTTP version, when the socket says: a <see cref="ClientWebSocket"/> that collected the
    /// response details answers 101 on HTTP/1.1 and 200 on HTTP/2 (RFC 8441's extended CONNECT).</summary>
    public Version? HttpVersion => Socket is ClientWebSocket client ? client.HttpStatusCode switch
    {
        System.Net.HttpStatusCode.SwitchingProtocols => System.Net.HttpVersion.Version11,
        System.Net.HttpStatusCode.OK => System.Net.HttpVersion.Version20,
        _ => null,
    } : null;
}

/// <summary>Opens the socket of one attempt and says what it applied to it.</summary>
internal interface ISocketConnector
{
    ValueTask<ConnectedSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken);
}

/// <summary>An app's <see cref="IWebSocketConnector"/>: its socket is checked, and nothing is assumed about it (no
/// coalescing, and no keep-alive timeout, so an unexplained cancellation is a lost connection).</summary>
internal sealed class CustomConnector(IWebSocketConnector inner) : ISocketConnector
{
    public async ValueTask<ConnectedSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = await inner.ConnectAsync(uri, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException(SR.ConnectorReturnedNull);
        if (socket.State != WebSocketState.Open)
        {
            socket.Dispose();
            throw new InvalidOperationException(SR.Format(SR.ConnectorReturnedNotOpen, socket.State));
        }

        return new ConnectedSocket(socket, Coalescer: null, KeepAliveTimesOut: false);
    }
}
