using System.Net.WebSockets;

namespace Resilient.WebSockets.Health;

/// <summary>
/// The WebSocket keep-alive: how the options are applied to a new <see cref="ClientWebSocket"/>, whether the runtime
/// will then abort a socket whose pong is late, and how such an abort is told apart from other failures.
/// </summary>
/// <remarks>
/// On net9 and later, with an interval and a finite timeout, the runtime pings every interval and aborts the socket when
/// no pong comes within the timeout; the receive then fails with an <see cref="OperationCanceledException"/> that the
/// client did not cause. On net8 the runtime only sends unsolicited pongs, which find nothing. On the default connector's
/// HTTP/1.1 path the client's own keep-alive (<see cref="KeepAliveMonitor"/>, see <see cref="TakeOver"/>) replaces the
/// runtime's on every runtime; elsewhere on net8 the application heartbeat (<see cref="HeartbeatMonitor"/>) and the
/// inactivity timeout (<see cref="InactivityMonitor"/>) are the detectors.
/// </remarks>
internal static class KeepAlive
{
    /// <summary>Applies the interval (and, where the runtime has it, the timeout) before the app's own configuration runs.</summary>
    public static void Apply(ClientWebSocketOptions socket, ReconnectingWebSocketOptions options)
    {
        socket.KeepAliveInterval = options.KeepAliveInterval;
#if NET9_0_OR_GREATER
        if (options.KeepAliveInterval > TimeSpan.Zero)
        {
            socket.KeepAliveTimeout = options.KeepAliveTimeout;
        }
#endif
    }

    /// <summary>
    /// On the coalescing transport, the client keeps the link alive itself (<see cref="KeepAliveMonitor"/>) when the
    /// options ask for a pong timeout and the app's configuration left the keep-alive as applied: the runtime's is then
    /// turned off on <paramref name="socket"/>. Returns whether it took over.
    /// </summary>
    public static bool TakeOver(ClientWebSocketOptions socket, ReconnectingWebSocketOptions options)
    {
        bool asApplied = socket.KeepAliveInterval == options.KeepAliveInterval;
#if NET9_0_OR_GREATER
        asApplied &= socket.KeepAliveTimeout == options.KeepAliveTimeout;
#endif
        if (!asApplied || options.KeepAliveInterval <= TimeSpan.Zero || options.KeepAliveTimeout == Timeout.InfiniteTimeSpan)
        {
            return false;
        }

        socket.KeepAliveInterval = TimeSpan.Zero;
        return true;
    }

    /// <summary>
    /// How long written data may stay unacknowledged by the peer's TCP before the kernel ends the connection
    /// (<c>TCP_USER_TIMEOUT</c>, Linux only), or null when it is not set. It is set where nothing else finds a dead link
    /// within the keep-alive's bounds: the client's own keep-alive is off for this socket (HTTP/2, or the app changed the
    /// keep-alive) and the runtime's cannot time out (net8). The runtime's unsolicited pongs, every interval, are the data
    /// that then goes unacknowledged on a dead link, so it ends within about interval + timeout.
    /// </summary>
    public static TimeSpan? TcpUserTimeout(ClientWebSocketOptions socket, ReconnectingWebSocketOptions options, bool clientKeepAlive)
    {
        if (!OperatingSystem.IsLinux() || clientKeepAlive || TimesOut(socket) || socket.KeepAliveInterval <= TimeSpan.Zero
            || options.KeepAliveTimeout == Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        return options.KeepAliveTimeout;
    }

    /// <summary>Whether <paramref name="exception"/> (or an exception inside it) is the kernel ending a connection whose
    /// written data went unacknowledged for the <see cref="TcpUserTimeout"/>.</summary>
    public static bool IsTcpUserTimeout(Exception? exception, bool tcpUserTimeout)
    {
        for (; tcpUserTimeout && exception is not null; exception = exception.InnerException)
        {
            if (exception is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.TimedOut })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a socket configured with <paramref name="socket"/> is aborted by the runtime when a pong is late
    /// (read after the app's configuration, which may have changed the settings).</summary>
    public static bool TimesOut(ClientWebSocketOptions socket)
    {
#if NET9_0_OR_GREATER
        return socket.KeepAliveInterval > TimeSpan.Zero && socket.KeepAliveTimeout != Timeout.InfiniteTimeSpan;
#else
        _ = socket;
        return false;
#endif
    }

    /// <summary>
    /// Whether a socket found <see cref="WebSocketState.Aborted"/> after a failed write was aborted by the runtime for a
    /// late pong. The session aborts a socket only after it has recorded its own reason, so on a socket with a pong
    /// timeout an abort it has not recorded is the runtime's. A write on such a socket fails at the same moment as the
    /// pending receive, and often first: it must not report the lost pong as a lost connection.
    /// </summary>
    public static bool IsRuntimeAbort(WebSocket socket, bool keepAliveTimesOut) =>
        keepAliveTimesOut && socket.State == WebSocketState.Aborted;

    /// <summary>
    /// Why a receive failed. The session never cancels a socket call and records its own reason before it aborts, so an
    /// <see cref="OperationCanceledException"/> it did not cause on a socket with a pong timeout is the runtime's
    /// keep-alive abort. On any other socket (a custom connector's, or one without the timeout) it is a lost connection.
    /// </summary>
    public static DisconnectReason Classify(Exception exception, bool keepAliveTimesOut) => exception switch
    {
        OperationCanceledException when keepAliveTimesOut => DisconnectReason.KeepAliveTimeout,
        WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely } => DisconnectReason.ConnectionLost,
        WebSocketException { InnerException: null, WebSocketErrorCode: WebSocketError.Faulted or WebSocketError.HeaderError or WebSocketError.InvalidMessageType } => DisconnectReason.ProtocolError,
        _ => DisconnectReason.ConnectionLost,
    };
}
