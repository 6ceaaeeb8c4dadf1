using System.Net.WebSockets;

namespace Resilient.WebSockets.Testing;

/// <summary>Records everything a client publishes, and lets a test wait (with a timeout, never a sleep) until a condition holds.</summary>
public sealed class ClientProbe : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly object _gate = new();
    private readonly List<WebSocketMessage> _messages = [];
    private readonly List<ConnectionStateChange> _states = [];
    private readonly List<ConnectedInfo> _connects = [];
    private readonly List<DisconnectedInfo> _disconnects = [];
    private readonly List<DroppedMessage> _drops = [];
    private readonly List<AcknowledgedMessage> _acks = [];
    private readonly List<IDisposable> _subscriptions = [];
    private event Action? Changed;

    public ClientProbe(ReconnectingWebSocket client)
    {
        _subscriptions.Add(client.Messages.Subscribe(new Observer<WebSocketMessage>(this, _messages, () => MessagesCompleted = true)));
        _subscriptions.Add(client.StateChanges.Subscribe(new Observer<ConnectionStateChange>(this, _states, () => StatesCompleted = true)));
        _subscriptions.Add(client.Connected.Subscribe(new Observer<ConnectedInfo>(this, _connects, null)));
        _subscriptions.Add(client.Disconnected.Subscribe(new Observer<DisconnectedInfo>(this, _disconnects, null)));
        _subscriptions.Add(client.Dropped.Subscribe(new Observer<DroppedMessage>(this, _drops, null)));
        _subscriptions.Add(client.Acknowledged.Subscribe(new Observer<AcknowledgedMessage>(this, _acks, null)));
    }

    public bool MessagesCompleted { get; private set; }

    public bool StatesCompleted { get; private set; }

    public IReadOnlyList<WebSocketMessage> Messages => Snapshot(_messages);

    public IReadOnlyList<string> Texts => Snapshot(_messages).Where(m => m.MessageType == WebSocketMessageType.Text).Select(m => m.Text).ToList();

    public IReadOnlyList<ConnectionStateChange> States => Snapshot(_states);

    public IReadOnlyList<ConnectionState> StateSequence => Snapshot(_states).Select(s => s.Current).ToList();

    public IReadOnlyList<ConnectedInfo> Connects => Snapshot(_connects);

    public IReadOnlyList<DisconnectedInfo> Disconnects => Snapshot(_disconnects);

    public IReadOnlyList<DroppedMessage> Drops => Snapshot(_drops);

    public IReadOnlyList<AcknowledgedMessage> Acks => Snapshot(_acks);

    public Task WaitForAcksAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Acks.Count >= count, $"{count} acks", timeout);

    public Task WaitForConnectsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Connects.Count >= count, $"{count} connects", timeout);

    public Task WaitForDisconnectsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Disconnects.Count >= count, $"{count} disconnects", timeout);

    public Task WaitForDropsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Drops.Count >= count, $"{count} drops", timeout);

    public Task WaitForMessagesAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Messages.Count >= count, $"{count} messages", timeout);

    public Task WaitForStateAsync(ConnectionState state, int occurrences = 1, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.StateSequence.Count(s => s == state) >= occurrences, $"state {state} x{occurrences}", timeout);

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking on every event; fails with what it waited for.</summary>
    public async Task WaitUntilAsync(Func<ClientProbe, bool> condition, string what, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (condition(this))
            {
                done.TrySetResult();
            }
        }

        Changed += Check;
        try
        {
            Check();
            await done.Task.WaitAsync(timeout ?? DefaultTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for {what}. States so far: {string.Join(" > ", StateSequence)}; messages: {Messages.Count}; disconnects: {string.Join(", ", Disconnects.Select(d => d.Reason))}.");
        }
        finally
        {
            Changed -= Check;
        }
    }

    public void Dispose()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
    }

    private List<T> Snapshot<T>(List<T> list)
    {
        lock (_gate)
        {
            return [.. list];
        }
    }

    private sealed class Observer<T>(ClientProbe probe, List<T> list, Action? onCompleted) : IObserver<T>
    {
        public void OnCompleted()
        {
            onCompleted?.Invoke();
            probe.Changed?.Invoke();
        }

        public void OnError(Exception error) => throw new InvalidOperationException("The client's streams must never fail.", error);

        public void OnNext(T value)
        {
            lock (probe._gate)
            {
                list.Add(value);
            }

            probe.Changed?.Invoke();
        }
    }
}
