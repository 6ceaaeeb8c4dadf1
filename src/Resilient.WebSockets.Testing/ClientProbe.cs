using System.Net.WebSockets;

namespace Resilient.WebSockets.Testing;

/// <summary>Records everything a client publishes (messages, states, connects, disconnects, drops, acks), and lets a
/// test wait until a condition holds: with a timeout whose message says what was seen, never with a sleep.</summary>
public sealed class ClientProbe : IDisposable
{
    /// <summary>How long each wait waits by default (real time): long enough for a loaded CI machine, short enough to fail.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly object _gate = new();
    private readonly List<WebSocketMessage> _messages = [];
    private readonly List<ConnectionStateChange> _states = [];
    private readonly List<ConnectedInfo> _connects = [];
    private readonly List<DisconnectedInfo> _disconnects = [];
    private readonly List<DroppedMessage> _drops = [];
    private readonly List<AcknowledgedMessage> _acks = [];
    private readonly List<IDisposable> _subscriptions = [];
    private int _delaysTaken;
    private event Action? Changed;

    /// <summary>Subscribes to every stream of <paramref name="client"/>; dispose the probe to unsubscribe.</summary>
    /// <param name="client">The client to watch.</param>
    public ClientProbe(ReconnectingWebSocket client)
    {
        _subscriptions.Add(client.Messages.Subscribe(new Observer<WebSocketMessage>(this, _messages, () => MessagesCompleted = true)));
        _subscriptions.Add(client.StateChanges.Subscribe(new Observer<ConnectionStateChange>(this, _states, () => StatesCompleted = true)));
        _subscriptions.Add(client.Connected.Subscribe(new Observer<ConnectedInfo>(this, _connects, null)));
        _subscriptions.Add(client.Disconnected.Subscribe(new Observer<DisconnectedInfo>(this, _disconnects, null)));
        _subscriptions.Add(client.Dropped.Subscribe(new Observer<DroppedMessage>(this, _drops, null)));
        _subscriptions.Add(client.Acknowledged.Subscribe(new Observer<AcknowledgedMessage>(this, _acks, null)));
    }

    /// <summary>Whether <see cref="ReconnectingWebSocket.Messages"/> completed (the client was disposed).</summary>
    public bool MessagesCompleted { get; private set; }

    /// <summary>Whether <see cref="ReconnectingWebSocket.StateChanges"/> completed.</summary>
    public bool StatesCompleted { get; private set; }

    /// <summary>Every message received so far, in order.</summary>
    public IReadOnlyList<WebSocketMessage> Messages => Snapshot(_messages);

    /// <summary>The text of every text message received so far, in order.</summary>
    public IReadOnlyList<string> Texts => Snapshot(_messages).Where(m => m.MessageType == WebSocketMessageType.Text).Select(m => m.Text).ToList();

    /// <summary>Every state change so far (the first is the state at subscription).</summary>
    public IReadOnlyList<ConnectionStateChange> States => Snapshot(_states);

    /// <summary>The states so far, in order.</summary>
    public IReadOnlyList<ConnectionState> StateSequence => Snapshot(_states).Select(s => s.Current).ToList();

    /// <summary>Every connect so far.</summary>
    public IReadOnlyList<ConnectedInfo> Connects => Snapshot(_connects);

    /// <summary>Every end of a session so far, with its reason.</summary>
    public IReadOnlyList<DisconnectedInfo> Disconnects => Snapshot(_disconnects);

    /// <summary>Every message reported as not delivered so far.</summary>
    public IReadOnlyList<DroppedMessage> Drops => Snapshot(_drops);

    /// <summary>Every acknowledged reliable message so far.</summary>
    public IReadOnlyList<AcknowledgedMessage> Acks => Snapshot(_acks);

    /// <summary>Waits until at least <paramref name="count"/> acks were recorded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes then, or faults with a <see cref="TimeoutException"/> that says what was seen.</returns>
    public Task WaitForAcksAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Acks.Count >= count, $"{count} acks", timeout);

    /// <summary>Waits until at least <paramref name="count"/> connects were recorded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes then, or faults with a <see cref="TimeoutException"/>.</returns>
    public Task WaitForConnectsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Connects.Count >= count, $"{count} connects", timeout);

    /// <summary>Waits until at least <paramref name="count"/> disconnects were recorded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes then, or faults with a <see cref="TimeoutException"/>.</returns>
    public Task WaitForDisconnectsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Disconnects.Count >= count, $"{count} disconnects", timeout);

    /// <summary>Waits until at least <paramref name="count"/> drops were recorded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes then, or faults with a <see cref="TimeoutException"/>.</returns>
    public Task WaitForDropsAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Drops.Count >= count, $"{count} drops", timeout);

    /// <summary>Waits until at least <paramref name="count"/> messages were recorded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes then, or faults with a <see cref="TimeoutException"/>.</returns>
    public Task WaitForMessagesAsync(int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.Messages.Count >= count, $"{count} messages", timeout);

    /// <summary>Waits until the client has been in <paramref name="state"/> at least <paramref name="occurrences"/> times.</summary>
    /// <param name="state">The state.</param>
    /// <param name="occurrences">How many times.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes then, or faults with a <see cref="TimeoutException"/>.</returns>
    public Task WaitForStateAsync(ConnectionState state, int occurrences = 1, TimeSpan? timeout = null) =>
        WaitUntilAsync(p => p.StateSequence.Count(s => s == state) >= occurrences, $"state {state} x{occurrences}", timeout);

    /// <summary>Waits for the client's next announced wait before a connect attempt (a <see cref="ConnectionState.Reconnecting"/>
    /// state with <see cref="ConnectionStateChange.NextAttemptIn"/>) and returns how long it is, jitter included. Each
    /// call takes the next such state, in order, so one call per outage.</summary>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>The wait the client announced.</returns>
    /// <exception cref="TimeoutException">The client announced no further wait in time.</exception>
    public async Task<TimeSpan> WaitForNextAttemptDelayAsync(TimeSpan? timeout = null)
    {
        int index = Interlocked.Increment(ref _delaysTaken) - 1;
        await WaitUntilAsync(p => p.AnnouncedDelays().Count > index, $"announced wait #{index + 1} before an attempt", timeout).ConfigureAwait(false);
        return AnnouncedDelays()[index];
    }

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking on every event; fails with what it waited for.</summary>
    /// <param name="condition">Checked now and after every event.</param>
    /// <param name="what">What is waited for, for the timeout's message.</param>
    /// <param name="timeout">How long; null for <see cref="DefaultTimeout"/>.</param>
    /// <returns>A task that completes once the condition holds.</returns>
    /// <exception cref="TimeoutException">It did not hold in time; the message says the states, messages and disconnects seen.</exception>
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
            await done.Task.WaitAsync(timeout ?? DefaultTimeout).ConfigureAwait(false);
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

    /// <summary>Unsubscribes from every stream.</summary>
    public void Dispose()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }
    }

    private List<TimeSpan> AnnouncedDelays() =>
        [.. States.Where(s => s.Current == ConnectionState.Reconnecting && s.NextAttemptIn is not null).Select(s => s.NextAttemptIn!.Value)];

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
