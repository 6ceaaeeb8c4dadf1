using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Reconnection;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets;

/// <summary>
/// A WebSocket client that stays connected: it reconnects with backoff when the connection drops, queues what the
/// app sends while it is down, and publishes every received message on <see cref="Messages"/>.
/// </summary>
/// <remarks>
/// <para>Create one per endpoint, subscribe, call <see cref="StartAsync"/>, send. The object never "dies": the
/// sockets under it come and go. All members are thread-safe.</para>
/// <para>Observers are called on the client's own loops: a message observer runs on the receive loop, so a slow one
/// slows receiving; an observer that throws is logged, stays subscribed, and affects neither the loop nor the other
/// observers. Observers of <see cref="StateChanges"/>, <see cref="Connected"/>, <see cref="Disconnected"/> and
/// <see cref="Dropped"/> are called one at a time; do not block in them waiting for the client.</para>
/// </remarks>
public sealed partial class ReconnectingWebSocket : IAsyncDisposable, IDisposable
{
    private const string DisposeDescription = "client disposed";

    /// <summary>Guards starting, stopping and disposing. Lock order: this lock, then the state machine's; nothing else is
    /// taken under it, and no user code runs under it (events are only posted to the pump).</summary>
    private readonly object _lifecycleGate = new();
    private readonly ReconnectingWebSocketOptions _options;
    private readonly ILogger _logger;
    private readonly ClientEvents _events;
    private readonly ClientMetrics _metrics;
    private readonly ConnectionStateMachine _state;
    private readonly ConnectionSupervisor _supervisor;
    private readonly MessageSender _sender;
    private readonly Broadcast<WebSocketMessage> _messages;
    private readonly MessageDispatcher _dispatcher;
    private readonly Delivery.Outbox? _outbox;
    private readonly Delivery.RequestTable? _requests;
    private readonly Delivery.EnvelopeState? _envelope;
    private SupervisorRun? _run;
    private volatile bool _disposed;

    /// <summary>Creates a client for <paramref name="uri"/> with the default options.</summary>
    /// <param name="uri">An absolute ws:// or wss:// URI.</param>
    /// <exception cref="ArgumentNullException"><paramref name="uri"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is relative or its scheme is not ws or wss.</exception>
    public ReconnectingWebSocket(Uri uri)
        : this(new ReconnectingWebSocketOptions { Uri = uri ?? throw new ArgumentNullException(nameof(uri)) })
    {
    }

    /// <summary>Creates a client with <paramref name="options"/>, validated and copied now (later changes have no effect).</summary>
    /// <param name="options">The settings; see <see cref="ReconnectingWebSocketOptions"/> for each default.</param>
    /// <param name="loggerFactory">Where the client logs; null for no logging. Payloads, header values and query strings are never logged.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what is valid.</exception>
    public ReconnectingWebSocket(ReconnectingWebSocketOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.ValidateAndCopy();
        Name = _options.Name.Length > 0 ? _options.Name : _options.Uri?.Authority ?? nameof(ReconnectingWebSocket);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ReconnectingWebSocket>();

        Action<Exception> onObserverError = ex => Log.ObserverFailed(_logger, Name, ex);
        _metrics = new ClientMetrics(_options.MeterFactory, Name, _options.Uri, () => _sender!.Queue.Count,
            _options.Delivery is null ? null : () => _outbox!.Snapshot());
        _events = new ClientEvents(onObserverError, _metrics);
        _messages = new Broadcast<WebSocketMessage>(onObserverError, owner: this);
        _dispatcher = new MessageDispatcher(_options.ReceiveBuffer, _messages, (type, length, reason) =>
            _events.Dropped.Publish(new DroppedMessage(MessageDirection.Incoming, type, length, reason)));
        _state = new ConnectionStateMachine(_logger, Name, _events);
        _sender = new MessageSender(_options.SendQueue, _options.TimeProvider, () => IsConnected, _events.Dropped, _metrics, _logger, Name);

        if (_options.Delivery is { } delivery)
        {
            _outbox = new Delivery.Outbox(delivery, _options.TimeProvider, _events.Acknowledged, _events.Dropped, _sender.Queue.Wake, _logger, Name);
        }

        if (_options.Requests is { } requests)
        {
            _requests = new Delivery.RequestTable(requests, _options.TimeProvider);
        }

        if (_options.Envelope is { } envelope)
        {
            _envelope = new Delivery.EnvelopeState(envelope, _options.TimeProvider);
        }

        var context = new ClientContext(_options, Name, _logger, _sender, _dispatcher, _events, _metrics, _outbox, _requests, _envelope);
        var policy = new ReconnectPolicy(_options.Reconnect, _options.ConnectTimeout, _options.TimeProvider, _logger, Name);
        _supervisor = new ConnectionSupervisor(context, _state, policy);
    }

    /// <summary>The client's name in logs: <see cref="ReconnectingWebSocketOptions.Name"/>, or the endpoint's host and port.</summary>
    public string Name { get; }

    /// <summary>The current state. Changes are published on <see cref="StateChanges"/>.</summary>
    public ConnectionState State => _state.Current;

    /// <summary>Whether a session is open and the queue flows (<see cref="State"/> is <see cref="ConnectionState.Connected"/>).</summary>
    public bool IsConnected => _state.Current == ConnectionState.Connected;

    /// <summary>
    /// Starts the client. The task completes when the first connection is open (after <see cref="ReconnectingWebSocketOptions.OnConnected"/>);
    /// until then the client keeps trying under the reconnect policy.
    /// </summary>
    /// <remarks>The first attempt begins on the calling thread, outside every lock of the client: a
    /// <see cref="ReconnectingWebSocketOptions.UriFactory"/>, <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/>
    /// or custom <see cref="ReconnectingWebSocketOptions.Connector"/> runs there until its first <c>await</c> that does
    /// not complete at once. Everything after that runs on the thread pool.</remarks>
    /// <param name="cancellationToken">Cancels the start: the client is then <see cref="ConnectionState.Stopped"/>, with nothing running.</param>
    /// <returns>A task that completes when connected.</returns>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    /// <exception cref="InvalidOperationException">The client is already started (call <see cref="StopAsync"/> first).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled, or <see cref="StopAsync"/> was called, before the first connect.
    /// After a failed attempt, its message names the cause and its <see cref="Exception.InnerException"/> is the last attempt's exception.</exception>
    /// <exception cref="Exception">The reconnect policy gave up: the last attempt's exception, for example a
    /// <see cref="WebSocketHandshakeException"/> for a handshake answered 401.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        SupervisorRun run;
        Task<Task> start;
        lock (_lifecycleGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_state.TryMoveTo(ConnectionState.Connecting, static current => current is ConnectionState.NotStarted or ConnectionState.Stopped))
            {
                throw new InvalidOperationException(SR.Format(SR.AlreadyStarted, _state.Current));
            }

            var previous = _run?.Completion ?? Task.CompletedTask;
            run = new SupervisorRun();
            start = new Task<Task>(() => _supervisor.RunAsync(run, previous));
            run.Completion = start.Unwrap();
            _run = run;
        }

        // The first attempt begins on the caller's thread, after the lock (it runs the app's callbacks): no wait for a
        // thread-pool thread before the connect, as with a bare ClientWebSocket. Every later step runs on the pool.
        start.RunSynchronously(TaskScheduler.Default);
        try
        {
            await run.FirstConnected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await StopRunAsync(run, new StopRequest(DisconnectReason.Stopped, WebSocketCloseStatus.NormalClosure, null, Flush: false, new CancellationToken(canceled: true))).ConfigureAwait(false);
            if (run.LastFailure is { } failure)
            {
                // Why it had not connected yet is the first thing a person asks.
                throw new OperationCanceledException(SR.Format(SR.StartCancelledAfterFailure, Describe.Cause(failure)), failure, cancellationToken);
            }

            throw;
        }
        catch
        {
            await run.Completion.ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Stops the client: writes what is queued (while <paramref name="cancellationToken"/> allows), sends a close frame
    /// with <paramref name="closeStatus"/>, waits up to <see cref="ReconnectingWebSocketOptions.CloseTimeout"/> for the
    /// server's close frame, and ends reconnecting. A stopped client can be started again; messages still queued stay
    /// queued for that. Does nothing if the client is not running.
    /// </summary>
    /// <param name="closeStatus">The close code to send.</param>
    /// <param name="statusDescription">The close reason to send, at most 123 UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancels the flush and the close handshake: the connection is then aborted. The task still completes only once nothing is running.</param>
    /// <returns>A task that completes when the client is <see cref="ConnectionState.Stopped"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="closeStatus"/> is not a code a client may send.</exception>
    /// <exception cref="ArgumentException"><paramref name="statusDescription"/> is too long, or given with <see cref="WebSocketCloseStatus.Empty"/>.</exception>
    public Task StopAsync(
        WebSocketCloseStatus closeStatus = WebSocketCloseStatus.NormalClosure,
        string? statusDescription = null,
        CancellationToken cancellationToken = default)
    {
        CloseArguments.Validate(closeStatus, statusDescription);
        bool flush = _options.SendQueue.FlushOnStop;
        var stopped = StopCoreAsync(new StopRequest(DisconnectReason.Stopped, closeStatus, statusDescription, flush, cancellationToken));
        return flush ? stopped : DiscardAfterAsync(stopped);
    }

    /// <summary>
    /// Closes the current session (code 1000, "reconnect requested") and connects again at once, without a backoff
    /// delay. Queued messages wait and go out on the new session. If the client is waiting to reconnect after a lost
    /// session, it attempts now; within a run of failing attempts, the next attempt keeps the policy's delay.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the reconnect itself goes on.</param>
    /// <returns>A task that completes when the new session is open.</returns>
    /// <exception cref="ObjectDisposedException">The client is disposed.</exception>
    /// <exception cref="InvalidOperationException">The client is not running.</exception>
    public Task ReconnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SupervisorRun run;
        lock (_lifecycleGate)
        {
            var state = _state.Current;
            if (_run is null || state is ConnectionState.NotStarted or ConnectionState.Stopping or ConnectionState.Stopped)
            {
                throw new InvalidOperationException(SR.Format(SR.NotStarted, state));
            }

            run = _run;
        }

        return run.RequestReconnect().WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops gracefully (queued messages are written for up to <see cref="ReconnectingWebSocketOptions.CloseTimeout"/>,
    /// then a close frame), reports what is still queued on <see cref="Dropped"/>, faults those sends with
    /// <see cref="MessageDroppedException"/>, and completes every stream. Safe to call more than once, and from an
    /// observer (the task then completes after that observer has returned).
    /// </summary>
    /// <returns>A task that completes when nothing of the client is left running and every stream has completed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!MarkDisposed())
        {
            return;
        }

        using var flushLimit = new CancellationTokenSource(_options.CloseTimeout, _options.TimeProvider);
        await StopCoreAsync(new StopRequest(DisconnectReason.Disposed, WebSocketCloseStatus.NormalClosure, DisposeDescription, _options.SendQueue.FlushOnStop, flushLimit.Token)).ConfigureAwait(false);
        CompleteStreams();
        if (_outbox?.Store is { } store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }

        await _events.Pump.WhenDelivered().ConfigureAwait(false);
        await _dispatcher.Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// Aborts the connection at once (no close handshake; use <see cref="DisposeAsync"/> for a graceful close), reports
    /// what is queued on <see cref="Dropped"/>, and completes every stream. The client's loops end within moments, by
    /// themselves; events still on their way (the last <see cref="Disconnected"/> and the move to
    /// <see cref="ConnectionState.Stopped"/>) are not delivered, and <see cref="Messages"/> completes once what was
    /// already received has been handed over. Nothing is published on a stream after its completion.
    /// </summary>
    public void Dispose()
    {
        if (!MarkDisposed())
        {
            return;
        }

        BeginStop(new StopRequest(DisconnectReason.Disposed, WebSocketCloseStatus.NormalClosure, DisposeDescription, Flush: false, new CancellationToken(canceled: true)));
        CompleteStreams();
        if (_outbox?.Store is { } store)
        {
            _ = DisposeStoreAsync(store, _run?.Completion ?? Task.CompletedTask); // once the run that uses it has ended
        }
    }

    private static async Task DisposeStoreAsync(IOutboxStore store, Task run)
    {
        await run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await store.DisposeAsync().ConfigureAwait(false);
    }

    internal Task? RunCompletion => _run?.Completion;

    private bool MarkDisposed()
    {
        lock (_lifecycleGate)
        {
            if (_disposed)
            {
                return false;
            }

            _disposed = true;
            return true;
        }
    }

    private Task StopCoreAsync(StopRequest request) => BeginStop(request)?.Completion ?? Task.CompletedTask;

    private Task StopRunAsync(SupervisorRun run, StopRequest request)
    {
        BeginStop(request, only: run);
        return run.Completion;
    }

    private async Task DiscardAfterAsync(Task stopped)
    {
        await stopped.ConfigureAwait(false);
        _sender.OnStopped();
    }

    /// <summary>Decides under the lifecycle lock (the move to <see cref="ConnectionState.Stopping"/>), then asks the run to
    /// stop outside it: the stop cancels the run's token, whose callbacks include the app's connector.</summary>
    private SupervisorRun? BeginStop(StopRequest request, SupervisorRun? only = null)
    {
        SupervisorRun? run;
        lock (_lifecycleGate)
        {
            run = _run;
            if (run is null || (only is not null && !ReferenceEquals(run, only))
                || !_state.TryMoveTo(ConnectionState.Stopping, static current => current is not (ConnectionState.NotStarted or ConnectionState.Stopped), request.Reason))
            {
                return null;
            }
        }

        Debug.Assert(!Monitor.IsEntered(_lifecycleGate), "A stop cancels tokens that run the app's code: never under the lifecycle lock.");
        run.RequestStop(request);
        return run;
    }

    private void CompleteStreams()
    {
        _sender.Close();
        _outbox?.Close();
        _requests?.Close();
        _dispatcher.Complete();
        _events.Complete();
        _metrics.Dispose();
    }
}
