using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// The client's <see cref="ConnectionState"/>: every move is checked, logged and published once, in order.
/// </summary>
/// <remarks>
/// Moves happen under one lock and are published under it, so observers of <see cref="Changes"/> see them one at a
/// time and in the order they happened; a new subscriber first gets the latest move (its current state). Rules:
/// a run starts from <see cref="ConnectionState.NotStarted"/> or <see cref="ConnectionState.Stopped"/> into
/// <see cref="ConnectionState.Connecting"/>; once <see cref="ConnectionState.Stopping"/>, only
/// <see cref="ConnectionState.Stopped"/> may follow, so a late connect or failure cannot undo a stop.
/// </remarks>
internal sealed class ConnectionStateMachine
{
    private readonly object _gate = new();
    private readonly Broadcast<ConnectionStateChange> _changes;
    private readonly ILogger _logger;
    private readonly string _name;
    private int _state;

    public ConnectionStateMachine(ILogger logger, string name, Action<Exception> onObserverError)
    {
        _logger = logger;
        _name = name;
        _changes = new Broadcast<ConnectionStateChange>(onObserverError, serialize: true, replayLatest: true,
            initial: new ConnectionStateChange(ConnectionState.NotStarted, ConnectionState.NotStarted, null, null));
    }

    public ConnectionState Current => (ConnectionState)Volatile.Read(ref _state);

    public Broadcast<ConnectionStateChange> Changes => _changes;

    /// <summary>Moves to <paramref name="next"/> if the rules allow; true if the client is now in that state.</summary>
    public bool TryMoveTo(ConnectionState next, DisconnectReason? reason = null, Exception? exception = null)
    {
        lock (_gate)
        {
            var current = (ConnectionState)_state;
            if (current == next)
            {
                return true;
            }

            if (!IsAllowed(current, next))
            {
                return false;
            }

            Volatile.Write(ref _state, (int)next);
            Log.StateChanged(_logger, _name, current, next, reason);
            _changes.Publish(new ConnectionStateChange(current, next, reason, exception));
            return true;
        }
    }

    /// <summary>Moves out of a running state into <paramref name="next"/> only when <paramref name="condition"/> holds, atomically.</summary>
    public bool TryMoveTo(ConnectionState next, Func<ConnectionState, bool> condition, DisconnectReason? reason = null)
    {
        lock (_gate)
        {
            return condition(Current) && TryMoveTo(next, reason);
        }
    }

    private static bool IsAllowed(ConnectionState from, ConnectionState to) => from switch
    {
        ConnectionState.NotStarted or ConnectionState.Stopped => to == ConnectionState.Connecting,
        ConnectionState.Stopping => to == ConnectionState.Stopped,
        _ => to != ConnectionState.NotStarted,
    };
}
