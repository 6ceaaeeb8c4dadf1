namespace Resilient.WebSockets.Internal;

/// <summary>
/// A hot stream that hands each value to every observer, each in its own try/catch: an observer that throws
/// is reported through <c>onObserverError</c>, stays subscribed, and does not keep the value from the others.
/// </summary>
/// <remarks>
/// With <c>serialize</c>, publications and the replay to a new subscriber run under one lock, so observers see
/// values one at a time and in order even when several threads publish. Without it, the caller promises a single
/// publisher (the receive loop), and publishing takes no lock. With <c>replayLatest</c>, a new subscriber first gets
/// the latest value (as a BehaviorSubject does).
/// </remarks>
internal sealed class Broadcast<T> : IObservable<T>
{
    private readonly object _gate = new();
    private readonly bool _serialize;
    private readonly bool _replayLatest;
    private readonly Action<Exception> _onObserverError;
    private IObserver<T>[] _observers = [];
    private bool _completed;
    private T _latest;

    public Broadcast(Action<Exception> onObserverError, bool serialize, bool replayLatest = false, T initial = default!)
    {
        _onObserverError = onObserverError;
        _serialize = serialize || replayLatest;
        _replayLatest = replayLatest;
        _latest = initial;
    }

    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_gate)
        {
            if (_completed)
            {
                SafeOnCompleted(observer);
                return Unsubscriber.Empty;
            }

            _observers = [.. _observers, observer];
            if (_replayLatest)
            {
                SafeOnNext(observer, _latest);
            }
        }

        return new Unsubscriber(this, observer);
    }

    public void Publish(T value)
    {
        if (!_serialize)
        {
            PublishCore(value);
            return;
        }

        lock (_gate)
        {
            _latest = value;
            PublishCore(value);
        }
    }

    public void Complete()
    {
        IObserver<T>[] observers;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            observers = _observers;
            _observers = [];
            foreach (var observer in observers)
            {
                SafeOnCompleted(observer);
            }
        }
    }

    private void PublishCore(T value)
    {
        var observers = Volatile.Read(ref _observers);
        foreach (var observer in observers)
        {
            SafeOnNext(observer, value);
        }
    }

    private void SafeOnNext(IObserver<T> observer, T value)
    {
        try
        {
            observer.OnNext(value);
        }
#pragma warning disable CA1031 // An observer's failure must never reach the loop that publishes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _onObserverError(ex);
        }
    }

    private void SafeOnCompleted(IObserver<T> observer)
    {
        try
        {
            observer.OnCompleted();
        }
#pragma warning disable CA1031 // An observer's failure must never reach dispose.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _onObserverError(ex);
        }
    }

    private void Remove(IObserver<T> observer)
    {
        lock (_gate)
        {
            int index = Array.IndexOf(_observers, observer);
            if (index < 0)
            {
                return;
            }

            var next = new IObserver<T>[_observers.Length - 1];
            Array.Copy(_observers, 0, next, 0, index);
            Array.Copy(_observers, index + 1, next, index, _observers.Length - index - 1);
            _observers = next;
        }
    }

    private sealed class Unsubscriber(Broadcast<T>? owner, IObserver<T>? observer) : IDisposable
    {
        public static readonly Unsubscriber Empty = new(null, null);

        private Broadcast<T>? _owner = owner;

        public void Dispose()
        {
            var owner = Interlocked.Exchange(ref _owner, null);
            if (owner is not null && observer is not null)
            {
                owner.Remove(observer);
            }
        }
    }
}
