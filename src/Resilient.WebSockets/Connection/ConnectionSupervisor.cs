using System.Net.WebSockets;
using System.Runtime.ExceptionServices;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Reconnection;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// The loop of one run: connect under the reconnect policy, run the session until it ends or the app intervenes,
/// publish what happened, back off, and again, until a stop or until the policy gives up. It is the only owner of
/// sessions, so there is never more than one, and the next starts only after the previous one's loops have ended.
/// </summary>
internal sealed class ConnectionSupervisor : IDisposable
{
    private readonly ClientContext _context;
    private readonly ConnectionStateMachine _state;
    private readonly ReconnectPolicy _policy;
    private readonly IWebSocketConnector _connector;
    private readonly Broadcast<ConnectedInfo> _connected;
    private readonly Broadcast<DisconnectedInfo> _disconnected;

    public ConnectionSupervisor(
        ClientContext context,
        ConnectionStateMachine state,
        ReconnectPolicy policy,
        Broadcast<ConnectedInfo> connected,
        Broadcast<DisconnectedInfo> disconnected)
    {
        _context = context;
        _state = state;
        _policy = policy;
        _connector = context.Options.Connector ?? new ClientWebSocketConnector(context.Options);
        _connected = connected;
        _disconnected = disconnected;
    }

    private ReconnectingWebSocketOptions Options => _context.Options;

    /// <summary>Releases the default connector's HTTP handler (once the client is done with it).</summary>
    public void Dispose() => (_connector as ClientWebSocketConnector)?.Dispose();

    public async Task RunAsync(SupervisorRun run, Task previousRun)
    {
        await previousRun.ConfigureAwait(false);
        DisconnectReason stoppedReason = DisconnectReason.Stopped;
        Exception? error = null;
        bool isReconnect = false;
        bool backOff = false;
        long lostAt = 0;
        _policy.Reset();
        try
        {
            while (run.Stop is null)
            {
                bool requested = run.TakeReconnect();
                if (backOff && !requested && _policy.IsBuiltIn)
                {
                    await BackOffAsync(run).ConfigureAwait(false);
                    run.TakeReconnect();
                    if (run.Stop is not null)
                    {
                        break;
                    }
                }

                (WebSocketSession Session, ConnectedInfo Info) connection;
                try
                {
                    connection = await ConnectUnderPolicyAsync(run, isReconnect, lostAt).ConfigureAwait(false);
                }
                catch (Exception) when (run.Stop is not null)
                {
                    break;
                }
#pragma warning disable CA1031 // The policy gave up: the run ends and reports this exception.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.ReconnectGaveUp(_context.Logger, _context.Name, ex);
                    error = ex;
                    break;
                }

                var (session, connectedInfo) = connection;
                DisconnectedInfo ended = await RunSessionAsync(run, session, connectedInfo).ConfigureAwait(false);
                lostAt = _context.TimeProvider.GetTimestamp();
                isReconnect = true;
                backOff = ended.Reason != DisconnectReason.ReconnectRequested;
                _policy.OnSessionEnded(_context.TimeProvider.GetElapsedTime(session.StartedAt, lostAt));
                Log.SessionEnded(_context.Logger, _context.Name, ended.Reason, ended.CloseStatus, ended.Exception);
                _disconnected.Publish(ended);
                if (Options.SendQueue.WhileDisconnected == WhileDisconnectedMode.Fail)
                {
                    _context.DropQueued(DropReason.Disconnected);
                }

                if (run.Stop is not null)
                {
                    break;
                }

                if (!_policy.ReconnectsAfterLoss && ended.Reason != DisconnectReason.ReconnectRequested)
                {
                    stoppedReason = ended.Reason;
                    error = ended.Exception;
                    break;
                }

                _state.TryMoveTo(ConnectionState.Reconnecting, ended.Reason, ended.Exception);
            }
        }
#pragma warning disable CA1031 // A bug in the loop must stop the client with a reason, not crash the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.LoopFailed(_context.Logger, _context.Name, ex);
            error = ex;
        }
        finally
        {
            if (run.Stop is { } stop)
            {
                stoppedReason = stop.Reason;
            }

            _state.TryMoveTo(ConnectionState.Stopped, stoppedReason, error);
            var failure = error ?? new OperationCanceledException(SR.StartCancelled);
            run.FirstConnected.TrySetException(failure);
            run.CompleteReconnectWaiters(failure);
        }
    }

    private async Task BackOffAsync(SupervisorRun run)
    {
        TimeSpan delay = _policy.NextDelay();
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        Log.ReconnectScheduled(_context.Logger, _context.Name, delay);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(run.Cancellation.Token);
        var sleep = Task.Delay(delay, _context.TimeProvider, cancel.Token);
        await Task.WhenAny(sleep, run.Signal).ConfigureAwait(false);
        await cancel.CancelAsync().ConfigureAwait(false);
    }

    private async Task<(WebSocketSession, ConnectedInfo)> ConnectUnderPolicyAsync(SupervisorRun run, bool isReconnect, long lostAt)
    {
        int attempt = 0;
        return await _policy.Pipeline.ExecuteAsync(
            async token => (await AttemptAsync(++attempt, isReconnect, lostAt, token).ConfigureAwait(false)),
            run.Cancellation.Token).ConfigureAwait(false);
    }

    private async ValueTask<(WebSocketSession, ConnectedInfo)> AttemptAsync(int attempt, bool isReconnect, long lostAt, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || !_state.TryMoveTo(ConnectionState.Connecting))
        {
            throw new OperationCanceledException(cancellationToken);
        }

        Log.Connecting(_context.Logger, _context.Name, Options.Uri is { } configured ? Log.Endpoint(configured) : "(UriFactory)", attempt);
        using var timeout = Options.ConnectTimeout == Timeout.InfiniteTimeSpan
            ? new CancellationTokenSource()
            : new CancellationTokenSource(Options.ConnectTimeout, _context.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        WebSocket? socket = null;
        WebSocketSession? session = null;
        try
        {
            Uri uri = await ResolveUriAsync(linked.Token).ConfigureAwait(false);
            socket = await _connector.ConnectAsync(uri, linked.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException(SR.ConnectorReturnedNull);
            if (socket.State != WebSocketState.Open)
            {
                throw new InvalidOperationException(SR.Format(SR.ConnectorReturnedNotOpen, socket.State));
            }

            session = new WebSocketSession(socket, _context);
            socket = null;
            session.StartReceiving();
            var downtime = isReconnect ? _context.TimeProvider.GetElapsedTime(lostAt) : TimeSpan.Zero;
            var info = new ConnectedInfo(attempt, isReconnect, downtime, uri);
            if (Options.OnConnected is { } onConnected)
            {
                try
                {
                    await onConnected(new ConnectedContext(info, session), linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Log.OnConnectedFailed(_context.Logger, _context.Name, ex);
                    throw;
                }
            }

            return (session, info);
        }
        catch (Exception ex)
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            socket?.Dispose();
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            Exception failure = ex is OperationCanceledException && timeout.IsCancellationRequested
                ? new TimeoutException(SR.Format(SR.ConnectTimedOut, Options.ConnectTimeout), ex)
                : ex;
            Log.ConnectAttemptFailed(_context.Logger, _context.Name, attempt, failure);
            if (failure is WebSocketHandshakeException { IsAuthenticationFailure: true } refused && !_policy.IsRetryable(refused))
            {
                Log.AuthenticationFailureNotRetried(_context.Logger, _context.Name, (int)refused.HttpStatusCode);
            }

            _state.TryMoveTo(ConnectionState.Reconnecting, null, failure);
            if (ReferenceEquals(failure, ex))
            {
                ExceptionDispatchInfo.Capture(ex).Throw();
            }

            throw failure;
        }
    }

    private async ValueTask<Uri> ResolveUriAsync(CancellationToken cancellationToken)
    {
        if (Options.UriFactory is not { } factory)
        {
            return Options.Uri!;
        }

        Uri? uri = await factory(cancellationToken).ConfigureAwait(false);
        if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != "ws" && uri.Scheme != "wss"))
        {
            throw new ArgumentException(SR.Format(SR.UriFactoryReturnedInvalid, uri?.OriginalString));
        }

        return uri;
    }

    /// <summary>Lets the queue flow on a connected session and waits for it to end, by itself or by the app's request.</summary>
    private async Task<DisconnectedInfo> RunSessionAsync(SupervisorRun run, WebSocketSession session, ConnectedInfo info)
    {
        try
        {
            run.TakeReconnect();
            if (!_state.TryMoveTo(ConnectionState.Connected, condition: current => current == ConnectionState.Connecting))
            {
                var stop = run.Stop;
                return await session.CloseAsync(stop?.Reason ?? DisconnectReason.Stopped, WebSocketCloseStatus.NormalClosure, stop?.Description, flush: false, CancellationToken.None).ConfigureAwait(false);
            }

            Log.Connected(_context.Logger, _context.Name, Log.Endpoint(info.Uri), info.Attempt, info.IsReconnect, info.Downtime);
            session.StartSending();
            _connected.Publish(info);
            run.FirstConnected.TrySetResult();
            run.CompleteReconnectWaiters(null);

            while (true)
            {
                await Task.WhenAny(session.ReceiveCompletion, run.Signal).ConfigureAwait(false);
                if (session.ReceiveCompletion.IsCompleted)
                {
                    return await session.WaitForEndAsync().ConfigureAwait(false);
                }

                if (run.Stop is { } stop)
                {
                    return await session.CloseAsync(stop.Reason, stop.CloseStatus, stop.Description, stop.Flush, stop.CancellationToken).ConfigureAwait(false);
                }

                if (run.TakeReconnect())
                {
                    return await session.CloseAsync(DisconnectReason.ReconnectRequested, WebSocketCloseStatus.NormalClosure, "reconnect requested", flush: false, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }
}
