using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// The client's <see cref="ConnectionState"/>: every move is checked, logged and published once, in order.
/// </summary>
/// <remarks>
/// A move is decided under <see cref="_gate"/> and posted to the event pump under it (the log line too, since a logger
/// provider is user code), so the published order is the
/// order of the moves; observers run later, on the pump, never under this lock, so an observer that moves the state
/// again (say, by calling <c>StopAsync</c>) has its move published after the one it is observing, to every observer.
/// Lock order: the client's lifecycle lock may be held when this lock is taken, never the other way round.
/// Rules: a run starts from <see cref="ConnectionState.NotStarted"/> or <see cref="ConnectionState.Stopped"/> into
/// <see cref="ConnectionState.Connecting"/>; once <see cref="ConnectionState.Stopping"/>, only
/// <see cref="ConnectionState.Stopped"/> may follow, so a late connect or failure cannot undo a stop.
/// </remarks>
internal sealed class ConnectionStateMachine
{
    private readonly object _gate = new();
    private readonly ClientEvents _events;
    private readonly ILogger _logger;
    private readonly string _name;
    private int _state;

    public ConnectionStateMachine(ILogger logger, string name, ClientEvents events)
    {
        _logger = logger;
        _name = name;
        _events = events;
    }

    public ConnectionState Current => (ConnectionState)Volatile.Read(ref _state);

    /// <summary>Moves to <paramref name="next"/> if the rules allow; true if the client is now in that state.</summary>
    public bool TryMoveTo(ConnectionState next, DisconnectReason? reason = null, Exception? exception = null, TimeSpan? nextAttemptIn = null) =>
        TryMoveTo(next, static _ => true, reason, exception, nextAttemptIn);

    /// <summary>Moves to <paramref name="next"/> only when <paramref name="condition"/> holds for the current state, atomically.</summary>
    public bool TryMoveTo(ConnectionState next, Func<ConnectionState, bool> condition, DisconnectReason? reason = null, Exception? exception = null, TimeSpan? nextAttemptIn = null)
    {
        lock (_gate)
        {
            var current = (ConnectionState)_state;
            if (!condition(current))
            {
                return false;
            }

            if (current == next)
            {
                return true;
            }

            if (!IsAllowed(current, next))
            {
                return false;
            }

            Volatile.Write(ref _state, (int)next);
            var change = new ConnectionStateChange(current, next, reason, exception) { NextAttemptIn = nextAttemptIn };

            // The log is user code too (a logger provider), so it runs on the pump as well, in the same order.
            _events.Pump.Post(() => Log.StateChanged(_logger, _name, change.Previous, change));
            _events.StateChanges.Publish(change);
            return true;
        }
    }

    private static bool IsAllowed(ConnectionState from, ConnectionState to) => from switch
    {
        ConnectionState.NotStarted or ConnectionState.Stopped => to == ConnectionState.Connecting,
        ConnectionState.Stopping => to == ConnectionState.Stopped,
        _ => to != ConnectionState.NotStarted,
    };
}
