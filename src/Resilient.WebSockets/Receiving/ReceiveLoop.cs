using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Health;

namespace Resilient.WebSockets.Receiving;

/// <summary>How a session's receive loop ended.</summary>
internal enum ReceiveEnd
{
    /// <summary>The server's close frame arrived (the socket holds its code and text).</summary>
    ClosedByServer,

    /// <summary>A message grew past the size limit; nothing of it was published.</summary>
    MessageTooLarge,

    /// <summary>A receive failed (see <see cref="ReceiveOutcome.Exception"/>).</summary>
    Failed,
}

/// <summary>The end of a receive loop, and the exception behind a <see cref="ReceiveEnd.Failed"/>.</summary>
internal readonly record struct ReceiveOutcome(ReceiveEnd End, Exception? Exception = null);

/// <summary>
/// The only reader of a session's socket: assembles fragments into whole messages in a pooled buffer (never past the
/// size limit), stamps activity for the health detectors, filters heartbeat replies, and hands each message to the
/// dispatcher, which delivers it on this thread while the observers keep up.
/// </summary>
/// <remarks>
/// <para>Reading may move threads: a watchdog (<see cref="ReceiveWatchdog"/>: one <see cref="TimeProvider"/> timer for
/// every loop on that clock, ticking every <see cref="MessageDispatcher.HandOverAfter"/> while any runs) asks the dispatcher whether one delivery has held
/// the loop for a whole tick; if so, a new read loop starts on the thread pool and the one stuck in the observer stops
/// reading when it returns. One loop reads at a time, and whichever ends the session sets <see cref="RunAsync"/>'s
/// outcome.</para>
/// <para>It never cancels a socket call (cancelling a pending WebSocket operation aborts the socket): the session
/// aborts the socket instead, and the loop ends on the resulting error.</para>
/// </remarks>
internal sealed class ReceiveLoop : IDisposable
{
    private readonly WebSocket _socket;
    private readonly MessageDispatcher _dispatcher;
    private readonly SessionHealth _health;
    private readonly Delivery.IncomingFilter? _incoming;
    private readonly Internal.EventPump? _events;
    private readonly ClientMetrics? _metrics;
    private readonly MessageAssembler _assembler;
    private readonly TimeProvider _time;
    private readonly int _maxMessageSize;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly TaskCompletionSource<ReceiveOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _watchGate = new();
    private readonly Action _onWatchdog;
    private ReceiveWatchdog? _watchdog;
    private long _lastSeen;
    private bool _ended;
    private CancellationToken _aborted;

    public ReceiveLoop(WebSocket socket, MessageDispatcher dispatcher, SessionHealth health, int maxMessageSize, TimeProvider time, ILogger logger, string name, Delivery.IncomingFilter? incoming = null, Internal.EventPump? events = null, ClientMetrics? metrics = null)
    {
        _events = events;
        _metrics = metrics;
        _socket = socket;
        _dispatcher = dispatcher;
        _health = health;
        _incoming = incoming;
        _maxMessageSize = maxMessageSize;
        _time = time;
        _logger = logger;
        _name = name;
        _assembler = new MessageAssembler(maxMessageSize);
        _onWatchdog = OnWatchdog;
    }

    /// <summary>Reads until the server closes, a message is too large, or a receive fails. What was received before the
    /// end is handed over before this completes (waits for room end with <paramref name="aborted"/>).</summary>
    public Task<ReceiveOutcome> RunAsync(CancellationToken aborted)
    {
        _aborted = aborted;
        if (_dispatcher.CanHandOver)
        {
            _watchdog = ReceiveWatchdog.For(_time);
            _watchdog.Register(_onWatchdog);
        }

        // Never on the caller's stack: when the first message is already there (a server that sends on connect), the
        // first receive completes at once and its observer call would otherwise hold the caller (the session, which
        // waits on this task) for as long as it runs, hand-over or not.
        _ = Task.Run(ReadAsync, CancellationToken.None);
        return _outcome.Task;
    }

    /// <summary>After our close frame for an oversized message: reads and discards until the server's close frame.</summary>
    public async Task DiscardUntilCloseAsync()
    {
        while (_socket.State is WebSocketState.CloseSent or WebSocketState.Open)
        {
            var result = await _socket.ReceiveAsync(_assembler.GetReceiveBuffer(), CancellationToken.None).ConfigureAwait(false);
            _assembler.Reset();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        StopWatching();
        _assembler.Dispose();
    }

    private async Task ReadAsync()
    {
        ReceiveOutcome outcome;
        try
        {
            while (true)
            {
                // A flood of messages the receive buffer drops reports each drop: while the observers of Dropped are far
                // behind, reading waits for them (the server then waits for TCP), so their backlog stays bounded.
                _events?.WaitForRoom();
                var result = await _socket.ReceiveAsync(_assembler.GetReceiveBuffer(), CancellationToken.None).ConfigureAwait(false);
                _health.OnActivity();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    outcome = new ReceiveOutcome(ReceiveEnd.ClosedByServer);
                    break;
                }

                if (!_assembler.Advance(result.Count))
                {
                    Log.MessageTooLarge(_logger, _name, _maxMessageSize);
                    _dispatcher.ReportDropped(result.MessageType, _assembler.Count, DropReason.MessageTooLarge);
                    _assembler.Reset();
                    outcome = new ReceiveOutcome(ReceiveEnd.MessageTooLarge);
                    break;
                }

                if (result.EndOfMessage)
                {
                    Log.MessageReceived(_logger, _name, result.MessageType, _assembler.Count);
                    _metrics?.Received(result.MessageType, _assembler.Count);
                    WebSocketMessage? message = _assembler.TakeMessage(result.MessageType);
                    if (!_health.ShouldPublish(message))
                    {
                        message = null; // a heartbeat reply
                    }
                    else if (_incoming is not null)
                    {
                        message = _incoming.Filter(message); // an ack, a response or a repeat is consumed; an envelope yields its body
                    }

                    if (message is not null && !await _dispatcher.AddAsync(message, _aborted).ConfigureAwait(false))
                    {
                        return; // a new read loop took over while this one was in an observer
                    }
                }
            }
        }
#pragma warning disable CA1031 // Every failure of the connection ends the session with a reason; none may escape the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            outcome = new ReceiveOutcome(ReceiveEnd.Failed, ex);
        }

        StopWatching();
        _outcome.TrySetResult(outcome);
    }

    /// <summary>The watchdog's tick: starts a new read loop when the current one has been in one observer call since the
    /// previous tick. Never after the loop ended (a late tick must not take over the next session's delivery).</summary>
    private void OnWatchdog()
    {
        lock (_watchGate)
        {
            if (!_ended && _dispatcher.TryTakeOver(ref _lastSeen))
            {
                _ = Task.Run(ReadAsync, CancellationToken.None);
            }
        }
    }

    private void StopWatching()
    {
        ReceiveWatchdog? watchdog;
        lock (_watchGate)
        {
            _ended = true;
            watchdog = _watchdog;
            _watchdog = null;
        }

        watchdog?.Unregister(_onWatchdog);
    }
}
