using System.Diagnostics;
using System.Net.WebSockets;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Reconnection;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// The loop of one run: connect under the reconnect policy, run the session until it ends or the app asks (through the
/// run's inbox), publish what happened, and again, until a stop or until the policy gives up. It is the only owner of
/// sessions, so there is never more than one, and the next starts only after the previous one's loops have ended.
/// </summary>
/// <remarks>Everything it publishes goes through the event pump: <c>StartAsync</c>'s and <c>ReconnectAsync</c>'s tasks
/// complete after the observers have seen the connect, and the run completes after they have seen the stop.</remarks>
internal sealed class ConnectionSupervisor
{
    private readonly ClientContext _context;
    private readonly ConnectionStateMachine _state;
    private readonly ReconnectPolicy _policy;
    private readonly ISocketConnector _connector;
    private string? _endpoint;
    private volatile WebSocketSession? _live;
    private long _liveSince; // when the live session went live (0: none), for its duration; the run loop only
    private Activity? _sessionActivity; // the live session's span, if a listener wanted one; the run loop only

    /// <summary>The longest a check of the link may take after the network changed (shorter if the keep-alive or heartbeat timeout is).</summary>
    internal static readonly TimeSpan NetworkCheckTimeout = TimeSpan.FromSeconds(5);

    public ConnectionSupervisor(ClientContext context, ConnectionStateMachine state, ReconnectPolicy policy)
    {
        _context = context;
        _state = state;
        _policy = policy;
        _connector = context.Options.Connector is { } custom ? new CustomConnector(custom) : new ClientWebSocketConnector(context.Options);
    }

    private ReconnectingWebSocketOptions Options => _context.Options;

    private ClientEvents Events => _context.Events;

    public async Task RunAsync(SupervisorRun run, Task previousRun)
    {
        // The client's spans are roots: a session outlives whatever span started the client (this flow only).
        Activity.Current = null;
        await previousRun.ConfigureAwait(false);
        var stoppedReason = DisconnectReason.Stopped;
        Exception? error = null;
        bool isReconnect = false;
        TimeSpan? delayFirst = null;
        long lostAt = 0;
        var reconnectWaiters = new List<TaskCompletionSource>();
        _policy.Reset();
        using var network = Options.WatchNetworkChanges ? Options.NetworkEvents.OnAvailable(_policy.Wake) : null;
        using var addresses = Options.WatchNetworkChanges ? Options.NetworkEvents.OnAddressChanged(CheckLiveSession) : null;
        try
        {
            error = await LoadOutboxAsync(run).ConfigureAwait(false);
            while (error is null && run.Stop is null)
            {
                (WebSocketSession Session, ConnectedInfo Info) connection;
                try
                {
                    connection = await _policy.ConnectAsync(
                        (attempt, token) => AttemptAsync(attempt, isReconnect, lostAt, token),
                        (attempt, failure, plan) => OnAttemptFailed(run, attempt, failure, plan),
                        delayFirst,
                        delayFirst is null ? CancellationToken.None : run.BeginWait(),
                        run.Cancellation.Token).ConfigureAwait(false);
                }
                catch (Exception) when (run.Stop is not null)
                {
                    break;
                }
#pragma warning disable CA1031 // The policy gave up: the run ends and reports this exception.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    // The built-in policy's last attempt already said why it stops; an app's pipeline gives up on its own.
                    if (Options.Reconnect.Pipeline is not null)
                    {
                        Log.ReconnectGaveUp(_context.Logger, _context.Name, Describe.Cause(ex), ex);
                    }

                    error = ex;
                    break;
                }

                var (session, info) = connection;
                DisconnectedInfo ended = await RunSessionAsync(run, session, info, reconnectWaiters).ConfigureAwait(false);
                _live = null;
                lostAt = _context.TimeProvider.GetTimestamp();
                if (_liveSince != 0)
                {
                    _context.Metrics.SessionEnded(_context.TimeProvider.GetElapsedTime(_liveSince, lostAt), ended);
                    _liveSince = 0;
                }

                ClientMetrics.SessionEnded(_sessionActivity, ended);
                _sessionActivity = null;

                isReconnect = true;
                _policy.OnSessionEnded(_context.TimeProvider.GetElapsedTime(session.StartedAt, lostAt));
                bool reconnects = run.Stop is null && (_policy.ReconnectsAfterLoss || ended.Reason == DisconnectReason.ReconnectRequested);
                delayFirst = reconnects && ended.Reason != DisconnectReason.ReconnectRequested ? _policy.DelayAfterLoss(ended) : null;
                LogSessionEnded(ended, reconnects, delayFirst);

                // The session's last messages reach the observers before its Disconnected does.
                Events.Pump.PostBarrier(_context.Dispatcher.WhenDelivered());
                Events.Disconnected.Publish(ended);
                _context.Sender.OnSessionLost();
                _context.Outbox?.OnSessionEnded();
                _context.Requests?.OnSessionLost();
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

                _state.TryMoveTo(ConnectionState.Reconnecting, ended.Reason, ended.Exception, delayFirst ?? TimeSpan.Zero);
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
            Events.Pump.Post(() =>
            {
                run.FirstConnected.TrySetException(failure);
                run.Close(reconnectWaiters, failure);
            });
            await Events.Pump.WhenDelivered().ConfigureAwait(false);
        }
    }

    /// <summary>An address came or went: the socket of the live session may be using one that is gone, so the link is
    /// checked now with a short deadline instead of at the next keep-alive.</summary>
    /// <summary>Starts the live session's span, without making it the current one: what runs next in this flow (the
    /// next attempt, after the session) is not part of the session.</summary>
    private void StartSessionActivity(ConnectedInfo info)
    {
        var previous = Activity.Current;
        _sessionActivity = _context.Metrics.StartActivity("websocket.session", ActivityKind.Client);
        if (_sessionActivity is not null)
        {
            _sessionActivity.SetTag("websocket.connect.attempt", info.Attempt);
            _sessionActivity.SetTag("websocket.reconnect", info.IsReconnect);
            if (info.HttpVersion is { } version)
            {
                _sessionActivity.SetTag("network.protocol.version", version.ToString(2));
            }
        }

        Activity.Current = previous;
    }

    private void CheckLiveSession()
    {
        if (_live is { } session)
        {
            var deadline = Options.KeepAliveTimeout < NetworkCheckTimeout ? Options.KeepAliveTimeout : NetworkCheckTimeout;
            if (session.CheckLink(deadline))
            {
                Log.CheckingLink(_context.Logger, _context.Name, Describe.Duration(deadline));
            }
        }
    }

    /// <summary>On the first start, what the outbox's store kept from before goes into the outbox, before connecting. A store
    /// that cannot load (another client holds its directory, say) stops the start with its exception.</summary>
    private async Task<Exception?> LoadOutboxAsync(SupervisorRun run)
    {
        if (_context.Outbox is not { } outbox)
        {
            return null;
        }

        try
        {
            await outbox.LoadOnceAsync(run.Cancellation.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested)
        {
            return null; // stopped while loading
        }
#pragma warning disable CA1031 // The start fails with the store's own exception.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.OutboxLoadFailed(_context.Logger, _context.Name, Describe.Cause(ex), ex);
            return ex;
        }
    }

    /// <summary>One line for a person: what failed, why, and what comes next; the exception in full at Debug.</summary>
    private void OnAttemptFailed(SupervisorRun run, int attempt, Exception failure, RetryPlan plan)
    {
        run.LastFailure = failure;
        string endpoint = _endpoint ?? SR.EndpointUnknown;
        string cause = Describe.Cause(failure);
        switch (plan.Verdict)
        {
            case RetryVerdict.Retry:
                Log.ConnectAttemptFailed(_context.Logger, _context.Name, attempt, endpoint, cause, Describe.Duration(plan.Delay!.Value));
                break;
            case RetryVerdict.PipelineDecides:
                Log.ConnectAttemptFailed(_context.Logger, _context.Name, attempt, endpoint, cause, SR.DelayByPipeline);
                break;
            default:
                Log.ConnectAttemptFailedFinal(_context.Logger, _context.Name, attempt, endpoint, cause, WhyNoRetry(attempt, plan.Verdict));
                break;
        }

        Log.ConnectAttemptFailedDetail(_context.Logger, _context.Name, attempt, failure);
        _state.TryMoveTo(ConnectionState.Reconnecting, DisconnectReason.ConnectFailed, failure, plan.Delay);
    }

    private static string WhyNoRetry(int attempt, RetryVerdict verdict) => verdict switch
    {
        RetryVerdict.Disabled => SR.NoRetryDisabled,
        RetryVerdict.AttemptsUsed => SR.Format(SR.NoRetryAttemptsUsed, attempt),
        RetryVerdict.AuthenticationRefused => SR.NoRetryAuthentication,
        _ => SR.NoRetryPermanent,
    };

    private void LogSessionEnded(DisconnectedInfo ended, bool reconnects, TimeSpan? delay)
    {
        string whatNext = !reconnects ? SR.NoReconnect
            : delay is { } wait ? SR.Format(SR.NextAttemptIn, Describe.Duration(wait))
            : SR.ReconnectingNow;
        if (ended.Reason is DisconnectReason.ClosedByServer or DisconnectReason.ReconnectRequested or DisconnectReason.Stopped or DisconnectReason.Disposed)
        {
            Log.SessionEnded(_context.Logger, _context.Name, ended, whatNext);
        }
        else
        {
            Log.SessionLost(_context.Logger, _context.Name, ended, whatNext);
        }
    }

    private async ValueTask<(WebSocketSession, ConnectedInfo)> AttemptAsync(int attempt, bool isReconnect, long lostAt, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || !_state.TryMoveTo(ConnectionState.Connecting))
        {
            throw new OperationCanceledException(cancellationToken);
        }

        long started = _context.TimeProvider.GetTimestamp();
        using var activity = _context.Metrics.StartActivity("websocket.connect", ActivityKind.Client);
        activity?.SetTag("websocket.connect.attempt", attempt);
        try
        {
            var connection = await ConnectAttemptAsync(attempt, isReconnect, lostAt, cancellationToken).ConfigureAwait(false);
            _context.Metrics.AttemptEnded(_context.TimeProvider.GetElapsedTime(started), error: null);
            if (activity is not null)
            {
                _context.Metrics.TagActivity(activity); // the endpoint this attempt resolved
            }

            return connection;
        }
        catch (Exception ex) // a timeout or a stop too: error.type says which
        {
            _context.Metrics.AttemptEnded(_context.TimeProvider.GetElapsedTime(started), ex);
            ClientMetrics.Fail(activity, ex);
            throw;
        }
    }

    private async ValueTask<(WebSocketSession, ConnectedInfo)> ConnectAttemptAsync(int attempt, bool isReconnect, long lostAt, CancellationToken cancellationToken)
    {
        Uri uri = await ResolveUriAsync(cancellationToken).ConfigureAwait(false);
        _endpoint = Log.Endpoint(uri);
        _context.Metrics.SetEndpoint(uri);
        Log.Connecting(_context.Logger, _context.Name, _endpoint, attempt);
        var connected = await _connector.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
        var session = new WebSocketSession(connected, _context);
        try
        {
            session.StartReceiving();
            var downtime = isReconnect ? _context.TimeProvider.GetElapsedTime(lostAt) : TimeSpan.Zero;
            var info = new ConnectedInfo(attempt, isReconnect, downtime, uri)
            {
                HttpVersion = connected.HttpVersion,
                SubProtocol = connected.Socket.SubProtocol is { Length: > 0 } subProtocol ? subProtocol : null,
            };
            if (_context.Envelope is { } envelope)
            {
                await session.SendDirectAsync(envelope.Hello(), WebSocketMessageType.Text, cancellationToken).ConfigureAwait(false);
            }

            if (Options.OnConnected is { } onConnected)
            {
                try
                {
                    await onConnected(new ConnectedContext(info, session), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.OnConnectedFailed(_context.Logger, _context.Name, Describe.Cause(ex), ex);
                    throw;
                }
            }

            return (session, info);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
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
            throw new ArgumentException(SR.Format(SR.UriFactoryReturnedInvalid, Redaction.Uri(uri?.OriginalString)));
        }

        return uri;
    }

    /// <summary>Lets the queue flow on a connected session and waits for it to end, by itself or by the app's request.</summary>
    private async Task<DisconnectedInfo> RunSessionAsync(SupervisorRun run, WebSocketSession session, ConnectedInfo info, List<TaskCompletionSource> reconnectWaiters)
    {
        try
        {
            run.TakePending(reconnectWaiters);
            if (!_state.TryMoveTo(ConnectionState.Connected, static current => current == ConnectionState.Connecting))
            {
                var stop = run.Stop;
                return await session.CloseAsync(stop?.Reason ?? DisconnectReason.Stopped, WebSocketCloseStatus.NormalClosure, stop?.Description, flush: false, CancellationToken.None).ConfigureAwait(false);
            }

            if (info.IsReconnect)
            {
                Log.Reconnected(_context.Logger, _context.Name, Log.Endpoint(info.Uri), info.Attempt, Describe.Duration(info.Downtime));
            }
            else
            {
                Log.Connected(_context.Logger, _context.Name, Log.Endpoint(info.Uri), info.Attempt);
            }

            session.StartSending();
            _live = session;
            _liveSince = _context.TimeProvider.GetTimestamp();
            _context.Metrics.SessionStarted(info.IsReconnect ? info.Downtime : null);
            StartSessionActivity(info);
            Events.Connected.Publish(info);
            var answered = reconnectWaiters.ToArray();
            reconnectWaiters.Clear();
            Events.Pump.Post(() =>
            {
                run.FirstConnected.TrySetResult();
                Array.ForEach(answered, static waiter => waiter.TrySetResult());
            });

            switch (await NextCommandAsync(run, session).ConfigureAwait(false))
            {
                case SupervisorCommand.Stop { Request: var stop }:
                    return await session.CloseAsync(stop.Reason, stop.CloseStatus, stop.Description, stop.Flush, stop.CancellationToken).ConfigureAwait(false);
                case SupervisorCommand.Reconnect reconnect:
                    reconnectWaiters.Add(reconnect.Connected);
                    return await session.CloseAsync(DisconnectReason.ReconnectRequested, WebSocketCloseStatus.NormalClosure, "reconnect requested", flush: false, CancellationToken.None).ConfigureAwait(false);
                default:
                    return await session.WaitForEndAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The app's next request while the session lives; null once the session ended by itself.</summary>
    private static async Task<SupervisorCommand?> NextCommandAsync(SupervisorRun run, WebSocketSession session)
    {
        while (!session.Ended.IsCompleted)
        {
            if (run.Inbox.TryRead(out var command))
            {
                return command;
            }

            using var stopWaiting = new CancellationTokenSource();
            await Task.WhenAny(run.Inbox.WaitToReadAsync(stopWaiting.Token).AsTask(), session.Ended).ConfigureAwait(false);
            await stopWaiting.CancelAsync().ConfigureAwait(false);
        }

        return null;
    }
}
