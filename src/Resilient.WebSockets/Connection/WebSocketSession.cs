using System.Net.WebSockets;
using Resilient.WebSockets.Health;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// One open WebSocket: it owns the socket, its writer (and send lock), the reason it ended, and its close and abort,
/// and it wires the loops together: the receive loop (the only publisher of messages while this session lives), the
/// send loop (the only writer of queued messages) and the health detectors. The session ends when its receive loop
/// ends; the first cause recorded (server close, lost connection, requested close, oversized message, a detector) is
/// its reason.
/// </summary>
/// <remarks>No socket call is ever given a cancellation token that can fire: cancelling a pending WebSocket operation
/// aborts the socket anyway, so the session aborts explicitly instead and every loop ends on the resulting error.</remarks>
internal sealed class WebSocketSession : IAsyncDisposable, IDirectLane
{
    private readonly WebSocket _socket;
    private readonly ClientContext _context;
    private readonly SocketWriter _writer;
    private readonly SessionHealth _health;
    private readonly ReceiveLoop _receiver;
    private readonly SendLoop _sender;
    private readonly CancellationTokenSource _aborted = new();
    private DisconnectedInfo? _end;
    private Task _receiving = Task.CompletedTask;
    private volatile bool _directSendsOpen = true;

    public WebSocketSession(ConnectedSocket connected, ClientContext context)
    {
        _socket = connected.Socket;
        _context = context;
        StartedAt = context.TimeProvider.GetTimestamp();
        _writer = new SocketWriter(_socket, connected.Coalescer);
        _health = new SessionHealth(context.Options, connected.KeepAliveTimesOut, connected.ClientKeepAlive ? connected.Coalescer : null, SendHeartbeatAsync, Abort, connected.TcpUserTimeout);
        _receiver = new ReceiveLoop(_socket, context.Dispatcher, _health, context.Options.MaxMessageSize, context.TimeProvider, context.Logger, context.Name, context.Incoming, context.Events.Pump, context.Metrics);
        _sender = new SendLoop(context.Sender.Queue, context.Outbox, _writer, OnWriteFailed, context.Metrics, context.Logger, context.Name);
    }

    /// <summary>When the socket opened, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long StartedAt { get; }

    /// <summary>Completes when the receive loop has ended, which ends the session.</summary>
    public Task Ended => _receiving;

    public void StartReceiving() => _receiving = Task.Run(ReceiveAsync);

    /// <summary>Lets the queue flow. From here on only the send loop writes messages (and the heartbeat, between them).</summary>
    public void StartSending()
    {
        _directSendsOpen = false;
        _context.Outbox?.OnSessionStarted(); // every unacknowledged message is due, ahead of the queue
        _sender.Start();
        _health.Start();
        _context.Sender.OpenLane(this);
    }

    bool IDirectLane.TryEnter() => _writer.TryEnter();

    ValueTask IDirectLane.WriteAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType) => _writer.WriteEnteredAsync(data, messageType);

    void IDirectLane.Exit() => _writer.Exit();

    void IDirectLane.OnFailed(Exception exception) => OnWriteFailed(exception);

    /// <summary>The network changed: check the link now (see <see cref="SessionHealth.CheckNow"/>).</summary>
    public bool CheckLink(TimeSpan deadline) => _health.CheckNow(deadline);

    /// <summary>Writes one message straight to the socket, ahead of the queue (the <c>OnConnected</c> hook's sends).</summary>
    public ValueTask SendDirectAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, CancellationToken cancellationToken)
    {
        return _directSendsOpen
            ? _writer.WriteDirectAsync(data, messageType, cancellationToken, cancellationToken)
            : ValueTask.FromException(new InvalidOperationException(SR.ContextExpired));
    }

    /// <summary>Text straight to the socket, ahead of the queue (the <c>OnConnected</c> hook's sends).</summary>
    public ValueTask SendDirectAsync(string text, CancellationToken cancellationToken)
    {
        return _directSendsOpen
            ? WriteTextAsync(text, cancellationToken, cancellationToken)
            : ValueTask.FromException(new InvalidOperationException(SR.ContextExpired));
    }

    /// <summary>Waits for the session to end by itself and returns why it ended.</summary>
    public async Task<DisconnectedInfo> WaitForEndAsync()
    {
        await _receiving.ConfigureAwait(false);
        _sender.Stop(flush: false);
        await _sender.Completion.ConfigureAwait(false);
        await _writer.SealAsync().ConfigureAwait(false);
        return _end ?? new DisconnectedInfo(DisconnectReason.ConnectionLost, null, null, null);
    }

    /// <summary>
    /// Ends the session on purpose: optionally writes what is queued first (for as long as
    /// <paramref name="cancellationToken"/> allows), sends the close frame, and waits up to the close timeout for the
    /// server's close frame before aborting.
    /// </summary>
    public async Task<DisconnectedInfo> CloseAsync(DisconnectReason reason, WebSocketCloseStatus status, string? description, bool flush, CancellationToken cancellationToken)
    {
        RecordEnd(new DisconnectedInfo(reason, status, description, null));
        _directSendsOpen = false;
        _context.Sender.CloseLane(this);
        using (cancellationToken.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this))
        {
            _sender.Stop(flush);
            await _sender.Completion.ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(_context.Options.CloseTimeout, _context.TimeProvider);
        using (timeout.Token.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this))
        {
            await CloseOutputAsync(status, description).ConfigureAwait(false);
            await _receiving.ConfigureAwait(false);
            await _writer.SealAsync().ConfigureAwait(false);
        }

        return _end!;
    }

    /// <summary>Ends the session at once, without a close handshake.</summary>
    public void Abort(DisconnectReason reason, Exception? exception)
    {
        RecordEnd(new DisconnectedInfo(reason, null, null, exception));
        _directSendsOpen = false;
        _context.Sender.CloseLane(this);
        _sender.Stop(flush: false);
        AbortSocket();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_receiving.IsCompleted || !_sender.Completion.IsCompleted)
        {
            Abort(DisconnectReason.ConnectionLost, null);
            await _receiving.ConfigureAwait(false);
            await _sender.Completion.ConfigureAwait(false);
        }

        await _writer.SealAsync().ConfigureAwait(false);
        await _health.DisposeAsync().ConfigureAwait(false);
        _receiver.Dispose();
        _socket.Dispose();
        _aborted.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var outcome = await _receiver.RunAsync(_aborted.Token).ConfigureAwait(false);
        try
        {
            switch (outcome.End)
            {
                case ReceiveEnd.ClosedByServer:
                    RecordEnd(new DisconnectedInfo(DisconnectReason.ClosedByServer, _socket.CloseStatus, _socket.CloseStatusDescription, null));
                    await AnswerServerCloseAsync().ConfigureAwait(false);
                    break;
                case ReceiveEnd.MessageTooLarge:
                    await CloseForOversizedMessageAsync().ConfigureAwait(false);
                    break;
                default:
                    RecordEnd(_health.IsTcpUserTimeout(outcome.Exception!, out var explained)
                        ? new DisconnectedInfo(DisconnectReason.KeepAliveTimeout, null, null, explained)
                        : new DisconnectedInfo(_health.Classify(outcome.Exception!), null, null, outcome.Exception));
                    AbortSocket(); // the socket is broken: a write stuck on it fails now instead of holding the session open
                    break;
            }
        }
#pragma warning disable CA1031 // The close handshake failed: the socket is gone, the reason is already recorded.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RecordEnd(new DisconnectedInfo(DisconnectReason.ConnectionLost, null, null, ex));
            AbortSocket();
        }
        finally
        {
            _context.Sender.CloseLane(this);
            _health.Stop();
            _sender.Stop(flush: false);
        }
    }

    /// <summary>The server's close: the write under way finishes, then our close frame answers it; bounded by the close
    /// timeout (a server that closes while it no longer reads would otherwise hold a write, and the session, for ever).</summary>
    private async Task AnswerServerCloseAsync()
    {
        using var timeout = new CancellationTokenSource(_context.Options.CloseTimeout, _context.TimeProvider);
        using var abort = timeout.Token.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this);
        await StopSendingAsync().ConfigureAwait(false);
        await CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, _socket.CloseStatusDescription).ConfigureAwait(false);
    }

    private async Task CloseForOversizedMessageAsync()
    {
        int limit = _context.Options.MaxMessageSize;
        RecordEnd(new DisconnectedInfo(DisconnectReason.MessageTooLarge, WebSocketCloseStatus.MessageTooBig,
            SR.MessageTooLargeDescription, new WebSocketException(WebSocketError.Faulted, SR.Format(SR.MessageTooLargeDetail, limit))));

        // Bounded: if the server neither reads our close nor answers it in time, the socket is aborted.
        using var timeout = new CancellationTokenSource(_context.Options.CloseTimeout, _context.TimeProvider);
        using var abort = timeout.Token.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this);
        await StopSendingAsync().ConfigureAwait(false);
        await CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, SR.MessageTooLargeDescription).ConfigureAwait(false);
        await _receiver.DiscardUntilCloseAsync().ConfigureAwait(false);
    }

    private async Task StopSendingAsync()
    {
        _sender.Stop(flush: false);
        await _sender.Completion.ConfigureAwait(false);
    }

    private async Task CloseOutputAsync(WebSocketCloseStatus status, string? description)
    {
        if (!await _writer.TryCloseOutputAsync(status, description).ConfigureAwait(false))
        {
            AbortSocket();
        }
    }

    /// <summary>The heartbeat's write: ahead of the queue, between two queued messages. A stop ends the wait for the lock,
    /// never the write itself (cancelling a write would abort the socket).</summary>
    private ValueTask SendHeartbeatAsync(string text, CancellationToken cancellationToken) =>
        WriteTextAsync(text, cancellationToken, CancellationToken.None);

    private async ValueTask WriteTextAsync(string text, CancellationToken lockToken, CancellationToken writeToken)
    {
        var message = Payloads.Text(text, completion: null);
        try
        {
            await _writer.WriteDirectAsync(message.Data, WebSocketMessageType.Text, lockToken, writeToken).ConfigureAwait(false);
        }
        finally
        {
            message.ReturnBuffer();
        }
    }

    /// <summary>A queued message's write failed: the connection is lost, unless the runtime's keep-alive aborted the
    /// socket, which the receive loop reports (it fails on the same abort).</summary>
    private void OnWriteFailed(Exception exception)
    {
        if (_health.IsTcpUserTimeout(exception, out var explained))
        {
            Abort(DisconnectReason.KeepAliveTimeout, explained);
        }
        else if (!_health.IsKeepAliveAbort(_socket))
        {
            Abort(DisconnectReason.ConnectionLost, exception);
        }
    }

    private void AbortSocket()
    {
        _socket.Abort();
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session is already disposed: nothing is left to stop.
        }
    }

    private void RecordEnd(DisconnectedInfo info) => Interlocked.CompareExchange(ref _end, info, null);
}
