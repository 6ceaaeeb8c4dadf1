namespace Resilient.WebSockets.Internal;

/// <summary>A writer waiting for room in a full queue (the send queue, the outbox): its item, the task that lets it in,
/// and the registration of its caller's token. Admission, cancellation and close each settle it, and only the first counts.</summary>
internal sealed class RoomWaiter<T>(T item)
{
    private int _settled;

    public T Item { get; } = item;

    public TaskCompletionSource Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    private CancellationTokenRegistration Cancellation { get; set; }

    /// <summary>True once: for the admission, the cancellation or the close that decides this waiter.</summary>
    public bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;

    /// <summary>Lets the waiter in (the caller has settled it, under its queue's lock).</summary>
    public void Admit()
    {
        Cancellation.Unregister();
        Admitted.TrySetResult();
    }

    /// <summary>Waits to be let in; <paramref name="giveUp"/> runs when <paramref name="cancellationToken"/> fires first.</summary>
    public async ValueTask WaitAsync(Action<RoomWaiter<T>, CancellationToken> giveUp, CancellationToken cancellationToken)
    {
        Cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (waiter, giveUp) = ((RoomWaiter<T>, Action<RoomWaiter<T>, CancellationToken>))state!;
            giveUp(waiter, token);
        }, (this, giveUp));
        if (Admitted.Task.IsCompleted)
        {
            Cancellation.Unregister(); // let in before the registration existed: nothing else would remove it
        }

        await Admitted.Task.ConfigureAwait(false);
    }
}
