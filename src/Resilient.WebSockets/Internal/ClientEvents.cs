namespace Resilient.WebSockets.Internal;

/// <summary>The client's event streams and the one pump that delivers them all, in the order they happened.</summary>
internal sealed class ClientEvents
{
    public ClientEvents(Action<Exception> onObserverError, Diagnostics.ClientMetrics? metrics = null)
    {
        Pump = new EventPump();
        StateChanges = new EventStream<ConnectionStateChange>(Pump, onObserverError, replayLatest: true,
            initial: new ConnectionStateChange(ConnectionState.NotStarted, ConnectionState.NotStarted, null, null));
        Connected = new EventStream<ConnectedInfo>(Pump, onObserverError);
        Disconnected = new EventStream<DisconnectedInfo>(Pump, onObserverError);
        // Measured as each report reaches the observers: on the pump, never under a lock (a meter's listener is user code).
        Dropped = new EventStream<DroppedMessage>(Pump, onObserverError, onDeliver: metrics is null ? null : metrics.Dropped);
        Acknowledged = new EventStream<AcknowledgedMessage>(Pump, onObserverError, onDeliver: metrics is null ? null : metrics.Acknowledged);
    }

    public EventPump Pump { get; }

    public EventStream<ConnectionStateChange> StateChanges { get; }

    public EventStream<ConnectedInfo> Connected { get; }

    public EventStream<DisconnectedInfo> Disconnected { get; }

    public EventStream<DroppedMessage> Dropped { get; }

    public EventStream<AcknowledgedMessage> Acknowledged { get; }

    /// <summary>Queues the completion of every stream, after every event posted so far.</summary>
    public void Complete()
    {
        Connected.Complete();
        Disconnected.Complete();
        Dropped.Complete();
        Acknowledged.Complete();
        StateChanges.Complete();
    }
}
