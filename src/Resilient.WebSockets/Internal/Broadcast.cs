namespace Resilient.WebSockets.Internal;

/// <summary>
/// The hot stream behind <c>Messages</c>: hands each value to every observer, each in its own try/catch (an observer
/// that throws is reported through <c>onObserverError</c>, stays subscribed, and does not keep the value from the
/// others). One publisher at a time (the dispatch loop, or the receive loop when delivering inline); no lock is held
/// while an observer runs.
/// </summary>
/// <remarks>
/// <see cref="Complete"/> may be called from any thread, also from inside an observer. It never runs alongside a
/// publication and nothing is published after it: if a publication is under way, that publisher completes the stream
/// when it returns.
/// </remarks>
internal sealed class Broadcast<T> : IObservable<T>
{
    private const int Idle = 0;
    private const int Publishing = 1;
    private const int CompletePending = 2;
    private const int Completed = 3;

    private readonly object _gate = new();
    private readonly Action<Exception> _onObserverError;
    private readonly object? _owner;
    private IObserver<T>[] _observers = [];
    private int _phase;

    /// <param name="onObserverError">Told of every exception an observer throws.</param>
    /// <param name="owner">Who publishes (the client): <see cref="Publisher.Current"/> on the publishing thread while
    /// the observers run, so an operator between the stream and an observer (<c>Json&lt;T&gt;</c>) can report to it.</param>
    public Broadcast(Action<Exception> onObserverError, object? owner = null)
    {
        _onObserverError = onObserverError;
        _owner = owner;
    }

    /// <summary>The publisher given to the constructor.</summary>
    public object? Owner => _owner;

    public IDisposable Subscribe(IObserver<T> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_gate)
        {
            if (Volatile.Read(ref _phase) != Completed)
            {
                _observers = [.. _observers, observer];
                return new Unsubscriber(this, observer);
            }
        }

        Guard(observer.OnCompleted);
        return Unsubscriber.Empty;
    }

    /// <summary>Delivers <paramref name="value"/> to every observer; false (nothing delivered) once completion has begun.</summary>
    public bool Publish(T value)
    {
        if (Interlocked.CompareExchange(ref _phase, Publishing, Idle) != Idle)
        {
            return false;
        }

        object? outer = Publisher.Current;
        Publisher.Current = _owner;
        try
        {
            foreach (var observer in Volatile.Read(ref _observers))
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
        }
        finally
        {
            Publisher.Current = outer;
            if (Interlocked.CompareExchange(ref _phase, Idle, Publishing) == CompletePending)
            {
                CompleteNow();
            }
        }

        return true;
    }

    /// <summary>Completes every observer once, now or (during a publication) as soon as it returns.</summary>
    public void Complete()
    {
        while (true)
        {
            switch (Volatile.Read(ref _phase))
            {
                case Idle when Interlocked.CompareExchange(ref _phase, Completed, Idle) == Idle:
                    CompleteNow();
                    return;
                case Publishing when Interlocked.CompareExchange(ref _phase, CompletePending, Publishing) == Publishing:
                    return;
                case CompletePending or Completed:
                    return;
            }
        }
    }

    private void CompleteNow()
    {
        IObserver<T>[] observers;
        lock (_gate)
        {
            Volatile.Write(ref _phase, Completed);
            observers = _observers;
            _observers = [];
        }

        foreach (var observer in observers)
        {
            Guard(observer.OnCompleted);
        }
    }

    private void Guard(Action call)
    {
        try
        {
            call();
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
            if (index >= 0)
            {
                _observers = [.. _observers.AsSpan(0, index), .. _observers.AsSpan(index + 1)];
            }
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

/// <summary>Who is publishing on this thread right now (see <see cref="Broadcast{T}"/>'s owner), or null.</summary>
internal static class Publisher
{
    [ThreadStatic]
    private static object? t_current;

    public static object? Current
    {
        get => t_current;
        set => t_current = value;
    }
}
