namespace Resilient.WebSockets.Internal;

/// <summary>
/// One of the client's event streams (<c>StateChanges</c>, <c>Connected</c>, <c>Disconnected</c>, <c>Dropped</c>),
/// delivered through the client's <see cref="EventPump"/>: observers are called one at a time, in order, never under a
/// lock of the client. An observer that throws is reported through <c>onObserverError</c> and stays subscribed.
/// </summary>
/// <remarks>
/// Every change to the observer list, every value and the completion pass through the pump, so a subscriber added
/// while events are in flight sees exactly the events posted after its subscription (after the latest value, with
/// <c>replayLatest</c>), and nothing is delivered after <c>OnCompleted</c>. The fields below are touched on the pump only.
/// </remarks>
internal sealed class EventStream<T> : IObservable<T>, IPumpTarget
    where T : class
{
    private readonly EventPump _pump;
    private readonly Action<Exception> _onObserverError;
    private readonly bool _replayLatest;
    private readonly Action<T>? _onDeliver;
    private List<Subscription> _subscriptions = [];
    private bool _completed;
    private T _latest;

    public EventStream(EventPump pump, Action<Exception> onObserverError, bool replayLatest = false, T initial = default!, Action<T>? onDeliver = null)
    {
        _onDeliver = onDeliver;
        _pump = pump;
        _onObserverError = onObserverError;
        _replayLatest = replayLatest;
        _latest = initial;
    }

    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var subscription = new Subscription(observer);
        _pump.Post(() => Attach(subscription));
        _pump.DrainHere();
        return subscription;
    }

    /// <summary>Queues <paramref name="value"/> for every observer subscribed by the time it is delivered.</summary>
    public void Publish(T value) => _pump.Post(this, value);

    void IPumpTarget.Deliver(object value) => Deliver((T)value);

    /// <summary>Queues the completion: every observer gets <c>OnCompleted</c> once, after every value posted before it.</summary>
    public void Complete() => _pump.Post(CompleteCore);

    private void Attach(Subscription subscription)
    {
        if (subscription.IsDisposed)
        {
            return;
        }

        if (_completed)
        {
            Guard(subscription.Observer.OnCompleted);
            return;
        }

        _subscriptions.Add(subscription);
        if (_replayLatest)
        {
            Guard(() => subscription.Observer.OnNext(_latest));
        }
    }

    private void Deliver(T value)
    {
        if (_completed)
        {
            return;
        }

        _latest = value;
        _onDeliver?.Invoke(value);
        bool anyDisposed = false;
        foreach (var subscription in _subscriptions)
        {
            if (subscription.IsDisposed)
            {
                anyDisposed = true;
                continue;
            }

            try
            {
                subscription.Observer.OnNext(value);
            }
#pragma warning disable CA1031 // An observer's failure must never reach the pump or the other observers.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _onObserverError(ex);
            }
        }

        if (anyDisposed)
        {
            _subscriptions = _subscriptions.FindAll(static s => !s.IsDisposed);
        }
    }

    private void CompleteCore()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        var subscriptions = _subscriptions;
        _subscriptions = [];
        foreach (var subscription in subscriptions)
        {
            if (!subscription.IsDisposed)
            {
                Guard(subscription.Observer.OnCompleted);
            }
        }
    }

    private void Guard(Action call)
    {
        try
        {
            call();
        }
#pragma warning disable CA1031 // An observer's failure must never reach the pump.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _onObserverError(ex);
        }
    }

    /// <summary>Disposing stops delivery at once (a value being delivered on another thread may still arrive); the
    /// entry leaves the list at the next delivery.</summary>
    private sealed class Subscription(IObserver<T> observer) : IDisposable
    {
        private volatile bool _disposed;

        public IObserver<T> Observer { get; } = observer;

        public bool IsDisposed => _disposed;

        public void Dispose() => _disposed = true;
    }
}
