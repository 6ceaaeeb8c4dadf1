using System.Net.WebSockets;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Health;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// One open WebSocket and its two loops: the receive loop (the only publisher of messages while this session lives)
/// and the send loop (the only writer, draining the shared send queue). The session ends when its receive loop ends;
/// the first cause recorded (server close, lost connection, requested close, oversized message) is its reason.
/// </summary>
/// <remarks>
/// No socket call is ever given a cancellation token that can fire: cancelling a pending WebSocket operation aborts the
/// socket anyway, so the session aborts explicitly instead and every loop ends on the resulting error.
/// </remarks>
internal sealed class WebSocketSession : IAsyncDisposable
{
#if NET9_0_OR_GREATER
    private const bool RuntimeHasKeepAliveTimeout = true;
#else
    private const bool RuntimeHasKeepAliveTimeout = false;
#endif

    private readonly WebSocket _socket;
    private readonly ClientContext _context;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stopWaiting = new();
    private readonly CancellationTokenSource _stopSending = new();
    private readonly CancellationTokenSource _aborted = new();
    private DisconnectedInfo? _end;
    private Task _receiveLoop = Task.CompletedTask;
    private Task _sendLoop = Task.CompletedTask;
    private readonly CoalescingStream? _coalescer;
    private readonly InactivityMonitor? _inactivity;
    private readonly HeartbeatMonitor? _heartbeat;
    private volatile bool _directSendsOpen = true;

    public WebSocketSession(WebSocket socket, ClientContext context)
    {
        _socket = socket;
        _context = context;
        StartedAt = context.TimeProvider.GetTimestamp();
        _coalescer = ClientWebSocketConnector.GetCoalescer(socket);
        var options = context.Options;
        if (options.InactivityTimeout is { } inactivity)
        {
            _inactivity = new InactivityMonitor(inactivity, context.TimeProvider, timeout =>
                Abort(DisconnectReason.InactivityTimeout, new TimeoutException(SR.Format(SR.InactivityTimedOut, timeout))));
        }

        if (options.Heartbeat is { } heartbeat)
        {
            _heartbeat = new HeartbeatMonitor(heartbeat, context.TimeProvider, SendHeartbeatAsync, timeout =>
                Abort(DisconnectReason.HeartbeatTimeout, new TimeoutException(SR.Format(SR.HeartbeatTimedOut, timeout))));
        }
    }

    /// <summary>When the socket opened, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long StartedAt { get; }

    /// <summary>Completes when the receive loop has ended, which ends the session.</summary>
    public Task ReceiveCompletion => _receiveLoop;

    public void StartReceiving() => _receiveLoop = Task.Run(ReceiveLoopAsync);

    /// <summary>Lets the queue flow. From here on only the send loop writes messages.</summary>
    public void StartSending()
    {
        _directSendsOpen = false;
        _sendLoop = Task.Run(SendLoopAsync);
        _heartbeat?.Start();
    }

    /// <summary>Writes one message straight to the socket, ahead of the queue (the <c>OnConnected</c> hook's sends).</summary>
    public async ValueTask SendDirectAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, CancellationToken cancellationToken)
    {
        if (!_directSendsOpen)
        {
            throw new InvalidOperationException(SR.ContextExpired);
        }

        await WriteLockedAsync(data, messageType, cancellationToken, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the session to end by itself and returns why it ended.</summary>
    public async Task<DisconnectedInfo> WaitForEndAsync()
    {
        await _receiveLoop.ConfigureAwait(false);
        StopSendLoop(flush: false);
        await _sendLoop.ConfigureAwait(false);
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
        using (cancellationToken.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this))
        {
            StopSendLoop(flush);
            await _sendLoop.ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(_context.Options.CloseTimeout, _context.TimeProvider);
        using (timeout.Token.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this))
        {
            await CloseOutputAsync(status, description).ConfigureAwait(false);
            await _receiveLoop.ConfigureAwait(false);
        }

        return _end!;
    }

    /// <summary>Ends the session at once, without a close handshake.</summary>
    public void Abort(DisconnectReason reason, Exception? exception)
    {
        RecordEnd(new DisconnectedInfo(reason, null, null, exception));
        _directSendsOpen = false;
        StopSendLoop(flush: false);
        AbortSocket();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_receiveLoop.IsCompleted || !_sendLoop.IsCompleted)
        {
            Abort(DisconnectReason.ConnectionLost, null);
            await _receiveLoop.ConfigureAwait(false);
            await _sendLoop.ConfigureAwait(false);
        }

        _inactivity?.Dispose();
        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }

        _socket.Dispose();
        _stopWaiting.Dispose();
        _stopSending.Dispose();
        _aborted.Dispose();
        _sendLock.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var assembler = new MessageAssembler(_context.Options.MaxMessageSize);
        try
        {
            var dispatcher = _context.Dispatcher;
            while (true)
            {
                var receive = _socket.ReceiveAsync(assembler.GetReceiveBuffer(), CancellationToken.None);
                if (!receive.IsCompleted && dispatcher.Pending > 0)
                {
                    // About to wait for the network: hand over what arrived meanwhile.
                    await dispatcher.FlushAsync(_aborted.Token).ConfigureAwait(false);
                }

                var result = await receive.ConfigureAwait(false);
                _inactivity?.OnActivity();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    RecordEnd(new DisconnectedInfo(DisconnectReason.ClosedByServer, _socket.CloseStatus, _socket.CloseStatusDescription, null));
                    StopSendLoop(flush: false);
                    await _sendLoop.ConfigureAwait(false);
                    await CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, _socket.CloseStatusDescription).ConfigureAwait(false);
                    return;
                }

                if (!assembler.Advance(result.Count))
                {
                    await CloseForOversizedMessageAsync(assembler).ConfigureAwait(false);
                    return;
                }

                if (result.EndOfMessage)
                {
                    Log.MessageReceived(_context.Logger, _context.Name, result.MessageType, assembler.Count);
                    var message = assembler.TakeMessage(result.MessageType);
                    if (_heartbeat is not null && _heartbeat.IsReply(message) && !_heartbeat.PublishReplies)
                    {
                        continue;
                    }

                    dispatcher.Add(message);
                    if (dispatcher.Pending >= MessageDispatcher.MaxBatch)
                    {
                        await dispatcher.FlushAsync(_aborted.Token).ConfigureAwait(false);
                    }
                }
            }
        }
#pragma warning disable CA1031 // Every failure of the connection ends the session with a reason; none may escape the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RecordEnd(new DisconnectedInfo(Classify(ex, KeepAliveTimesOut), null, null, ex));
        }
        finally
        {
            // Whatever arrived before the end is still delivered, in order.
            await _context.Dispatcher.FlushAsync(_aborted.Token).ConfigureAwait(false);
            assembler.Dispose();
            _inactivity?.Dispose();
            _heartbeat?.Stop();
            StopSendLoop(flush: false);
        }
    }

    private async Task CloseForOversizedMessageAsync(MessageAssembler assembler)
    {
        Log.MessageTooLarge(_context.Logger, _context.Name, _context.Options.MaxMessageSize);
        RecordEnd(new DisconnectedInfo(DisconnectReason.MessageTooLarge, WebSocketCloseStatus.MessageTooBig,
            SR.MessageTooLargeDescription, new WebSocketException(WebSocketError.Faulted, SR.Format(SR.MessageTooLargeDetail, _context.Options.MaxMessageSize))));

        // Bounded: if the server neither reads our close nor answers it in time, the socket is aborted.
        using var timeout = new CancellationTokenSource(_context.Options.CloseTimeout, _context.TimeProvider);
        using var abort = timeout.Token.UnsafeRegister(static state => ((WebSocketSession)state!).AbortSocket(), this);
        StopSendLoop(flush: false);
        await _sendLoop.ConfigureAwait(false);
        await CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, SR.MessageTooLargeDescription).ConfigureAwait(false);

        // Read and discard until the server's close frame: nothing more is kept or published.
        assembler.Reset();
        while (_socket.State is WebSocketState.CloseSent or WebSocketState.Open)
        {
            var result = await _socket.ReceiveAsync(assembler.GetReceiveBuffer(), CancellationToken.None).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Drains the queue. With a coalescing transport, each message's frame is held in the transport's buffer and the
    /// batch is written with one socket write when the queue runs empty or the buffer fills; the messages' sends complete
    /// only after that write succeeded, and on failure the whole batch goes back to the front of the queue, in order.
    /// </summary>
    private async Task SendLoopAsync()
    {
        var queue = _context.SendQueue;
        var unflushed = _coalescer is null ? null : new List<OutgoingMessage>();
        try
        {
            while (!_stopSending.IsCancellationRequested)
            {
                if (!queue.TryTake(out var message))
                {
                    if (unflushed is { Count: > 0 })
                    {
                        if (!await TryFlushAsync(unflushed).ConfigureAwait(false))
                        {
                            return;
                        }

                        continue;
                    }

                    if (_stopWaiting.IsCancellationRequested)
                    {
                        return;
                    }

                    try
                    {
                        if (!await queue.WaitToReadAsync(_stopWaiting.Token).ConfigureAwait(false))
                        {
                            return;
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopping: the loop drains what is left when flushing, or ends.
                    }

                    continue;
                }

                await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    _coalescer?.BufferNextWrite();
                    await _socket.SendAsync(message.Data, message.MessageType, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A failed write ends the session; the messages wait for the next one.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _coalescer?.CancelBufferNextWrite();
                    RequeueAll(unflushed);
                    queue.Requeue(message);
                    Log.SendFailed(_context.Logger, _context.Name, ex);
                    Abort(DisconnectReason.ConnectionLost, ex);
                    return;
                }
                finally
                {
                    _sendLock.Release();
                }

                if (unflushed is null)
                {
                    queue.MarkWritten(message);
                }
                else
                {
                    unflushed.Add(message);
                    bool full = _coalescer!.Buffered >= CoalescingStream.FlushThreshold || unflushed.Count >= CoalescingStream.MaxBatchMessages;
                    if (full && !await TryFlushAsync(unflushed).ConfigureAwait(false))
                    {
                        return;
                    }
                }
            }

            if (unflushed is { Count: > 0 })
            {
                await TryFlushAsync(unflushed).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A bug here must end the session, not the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RequeueAll(unflushed);
            Log.LoopFailed(_context.Logger, _context.Name, ex);
            Abort(DisconnectReason.ConnectionLost, ex);
        }
    }

    /// <summary>Writes the held batch; its sends complete on success, and on failure it goes back to the queue and the session ends.</summary>
    private async ValueTask<bool> TryFlushAsync(List<OutgoingMessage> unflushed)
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await _coalescer!.FlushBatchAsync(CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed write ends the session; the batch waits for the next one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RequeueAll(unflushed);
            Log.SendFailed(_context.Logger, _context.Name, ex);
            Abort(DisconnectReason.ConnectionLost, ex);
            return false;
        }
        finally
        {
            _sendLock.Release();
        }

        foreach (var message in unflushed)
        {
            _context.SendQueue.MarkWritten(message);
        }

        unflushed.Clear();
        return true;
    }

    private void RequeueAll(List<OutgoingMessage>? unflushed)
    {
        if (unflushed is null)
        {
            return;
        }

        foreach (var message in unflushed)
        {
            _context.SendQueue.Requeue(message);
        }

        unflushed.Clear();
    }

    /// <summary>The heartbeat's write: ahead of the queue, between two queued messages. A stop ends the wait for the lock,
    /// never the write itself (cancelling a write would abort the socket).</summary>
    private ValueTask SendHeartbeatAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        WriteLockedAsync(payload, WebSocketMessageType.Text, cancellationToken, CancellationToken.None);

    /// <summary>One whole message written under the session's send lock (the socket allows one write at a time).</summary>
    private async ValueTask WriteLockedAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, CancellationToken lockToken, CancellationToken writeToken)
    {
        await _sendLock.WaitAsync(lockToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(data, messageType, endOfMessage: true, writeToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task CloseOutputAsync(WebSocketCloseStatus status, string? description)
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, description, CancellationToken.None).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // The peer may be gone already; the session is ending either way.
        catch (Exception)
#pragma warning restore CA1031
        {
            AbortSocket();
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void StopSendLoop(bool flush)
    {
        CancelQuietly(_stopWaiting);
        if (!flush)
        {
            CancelQuietly(_stopSending);
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session is already disposed: nothing is left to stop.
        }
    }

    private void AbortSocket()
    {
        _socket.Abort();
        CancelQuietly(_aborted);
    }

    private void RecordEnd(DisconnectedInfo info) => Interlocked.CompareExchange(ref _end, info, null);

    /// <summary>Whether the runtime aborts the socket when a pong is late (net9 and later, with both keep-alive settings on).</summary>
    private bool KeepAliveTimesOut =>
        RuntimeHasKeepAliveTimeout && _context.Options.KeepAliveInterval > TimeSpan.Zero && _context.Options.KeepAliveTimeout != Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Why a receive failed. The session never cancels a socket call and records its own reason before it aborts, so an
    /// <see cref="OperationCanceledException"/> it did not cause is the runtime's keep-alive abort: no pong came in time.
    /// </summary>
    internal static DisconnectReason Classify(Exception exception, bool keepAliveTimesOut) => exception switch
    {
        OperationCanceledException when keepAliveTimesOut => DisconnectReason.KeepAliveTimeout,
        WebSocketException { WebSocketErrorCode: WebSocketError.ConnectionClosedPrematurely } => DisconnectReason.ConnectionLost,
        WebSocketException { InnerException: null, WebSocketErrorCode: WebSocketError.Faulted or WebSocketError.HeaderError or WebSocketError.InvalidMessageType } => DisconnectReason.ProtocolError,
        _ => DisconnectReason.ConnectionLost,
    };
}
