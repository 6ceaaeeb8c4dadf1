namespace Resilient.WebSockets;

/// <summary>The state of a <see cref="ReconnectingWebSocket"/>.</summary>
/// <remarks>
/// The usual path is <see cref="NotStarted"/> → <see cref="Connecting"/> → <see cref="Connected"/>,
/// then, for every lost session, <see cref="Reconnecting"/> → <see cref="Connecting"/> → <see cref="Connected"/>,
/// and finally <see cref="Stopping"/> → <see cref="Stopped"/>. A stopped client can be started again.
/// </remarks>
public enum ConnectionState
{
    /// <summary>Created; <see cref="ReconnectingWebSocket.StartAsync"/> has not been called.</summary>
    NotStarted = 0,

    /// <summary>A connect attempt is under way.</summary>
    Connecting = 1,

    /// <summary>A session is open; queued messages flow.</summary>
    Connected = 2,

    /// <summary>The last attempt failed or the session was lost; the client is waiting for its next attempt.</summary>
    Reconnecting = 3,

    /// <summary><see cref="ReconnectingWebSocket.StopAsync"/> or dispose is closing the session.</summary>
    Stopping = 4,

    /// <summary>Stopped by the app, or the reconnect policy gave up. Nothing is running.</summary>
    Stopped = 5,
}
