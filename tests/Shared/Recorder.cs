namespace Resilient.WebSockets.Testing;

/// <summary>An observer made of delegates, for tests that watch one stream.</summary>
public sealed class Recorder<T>(Action<T> onNext, Action? onCompleted = null) : IObserver<T>
{
    public void OnCompleted() => onCompleted?.Invoke();

    public void OnError(Exception error) => throw new InvalidOperationException("The library's streams must never fail.", error);

    public void OnNext(T value) => onNext(value);
}
