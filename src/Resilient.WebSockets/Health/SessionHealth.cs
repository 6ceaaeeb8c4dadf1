using System.Net.WebSockets;
using Resilient.WebSockets.Internal;

namespace Resilient.WebSockets.Health;

/// <summary>
/// Every dead-peer detector of one session in one place: the client's own keep-alive (on the coalescing transport), the
/// classification of a failed receive when the runtime's keep-alive is on instead, the application heartbeat (and the filter that keeps its replies off <c>Messages</c>), and the inactivity timeout.
/// A detector that fires ends the session through <c>onDead</c> with its own reason.
/// </summary>
internal sealed class SessionHealth : IAsyncDisposable
{
    private readonly bool _keepAliveTimesOut;
    private readonly TimeSpan? _tcpUserTimeout;
    private readonly KeepAliveMonitor? _keepAlive;
    private readonly InactivityMonitor? _inactivity;
    private readonly HeartbeatMonitor? _heartbeat;

    /// <param name="options">The client's options.</param>
    /// <param name="keepAliveTimesOut">Whether the runtime aborts this socket when a pong is late (the connector says).</param>
    /// <param name="keepAliveLink">The transport of the client's own keep-alive, when the connector turned the runtime's off for it.</param>
    /// <param name="sendText">Writes one text message ahead of the queue (the heartbeat).</param>
    /// <param name="onDead">Ends the session with a reason and the exception that explains it.</param>
    /// <param name="tcpUserTimeout">The TCP user timeout set on the connection (<see cref="KeepAlive.TcpUserTimeout"/>), if any.</param>
    public SessionHealth(ReconnectingWebSocketOptions options, bool keepAliveTimesOut, IKeepAliveLink? keepAliveLink, Func<string, CancellationToken, ValueTask> sendText, Action<DisconnectReason, Exception> onDead, TimeSpan? tcpUserTimeout = null)
    {
        _keepAliveTimesOut = keepAliveTimesOut;
        _tcpUserTimeout = tcpUserTimeout;
        var time = options.TimeProvider;
        if (keepAliveLink is not null)
        {
            _keepAlive = new KeepAliveMonitor(keepAliveLink, options.KeepAliveInterval, options.KeepAliveTimeout, time, (timeout, asked) =>
                onDead(DisconnectReason.KeepAliveTimeout, new TimeoutException(SR.Format(asked ? SR.KeepAliveCheckFailed : SR.KeepAliveTimedOut, Describe.Duration(timeout)))));
        }

        if (options.InactivityTimeout is { } inactivity)
        {
            _inactivity = new InactivityMonitor(inactivity, time, timeout =>
                onDead(DisconnectReason.InactivityTimeout, new TimeoutException(SR.Format(SR.InactivityTimedOut, Describe.Duration(timeout)))));
        }

        if (options.Heartbeat is { } heartbeat)
        {
            _heartbeat = new HeartbeatMonitor(heartbeat, time, sendText, (timeout, asked) =>
                onDead(DisconnectReason.HeartbeatTimeout, new TimeoutException(SR.Format(asked ? SR.HeartbeatCheckFailed : SR.HeartbeatTimedOut, Describe.Duration(timeout)))));
        }
    }

    /// <summary>The network changed under the session: check the link now with the detectors that can (the client's own
    /// keep-alive pings, the heartbeat sends its message), each with at most <paramref name="deadline"/>.</summary>
    /// <returns>Whether any detector could check (the runtime's keep-alive cannot be asked for a ping).</returns>
    public bool CheckNow(TimeSpan deadline)
    {
        _keepAlive?.CheckNow(deadline);
        _heartbeat?.CheckNow(deadline);
        return _keepAlive is not null || _heartbeat is not null;
    }

    /// <summary>The queue flows: the heartbeat starts.</summary>
    public void Start() => _heartbeat?.Start();

    /// <summary>A frame arrived.</summary>
    public void OnActivity() => _inactivity?.OnActivity();

    /// <summary>Whether <paramref name="message"/> goes to the observers (a heartbeat reply does not, unless asked).</summary>
    public bool ShouldPublish(WebSocketMessage message) =>
        _heartbeat is null || !_heartbeat.IsReply(message) || _heartbeat.PublishReplies;

    /// <summary>Why a receive failed (see <see cref="KeepAlive.Classify"/>).</summary>
    public DisconnectReason Classify(Exception exception) => KeepAlive.Classify(exception, _keepAliveTimesOut);

    /// <summary>
    /// Whether a failed receive or write is the OS's TCP user timeout ending a dead link (see
    /// <see cref="KeepAlive.TcpUserTimeout"/>): then the reason is <see cref="DisconnectReason.KeepAliveTimeout"/>, and
    /// <paramref name="explained"/> says it in one line, with the socket's error inside.
    /// </summary>
    public bool IsTcpUserTimeout(Exception exception, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Exception? explained)
    {
        if (_tcpUserTimeout is { } timeout && KeepAlive.IsTcpUserTimeout(exception, tcpUserTimeout: true))
        {
            explained = new TimeoutException(SR.Format(SR.TcpUserTimedOut, Describe.Duration(timeout)), exception);
            return true;
        }

        explained = null;
        return false;
    }

    /// <summary>Whether a failed write is the runtime's keep-alive abort (see <see cref="KeepAlive.IsRuntimeAbort"/>):
    /// then the write does not decide the reason; the receive loop fails on the same abort and reports it.</summary>
    public bool IsKeepAliveAbort(WebSocket socket) => KeepAlive.IsRuntimeAbort(socket, _keepAliveTimesOut);

    /// <summary>The session is ending: no detector fires any more.</summary>
    public void Stop()
    {
        _keepAlive?.Dispose();
        _inactivity?.Dispose();
        _heartbeat?.Stop();
    }

    public async ValueTask DisposeAsync()
    {
        _keepAlive?.Dispose();
        _inactivity?.Dispose();
        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }
    }
}
