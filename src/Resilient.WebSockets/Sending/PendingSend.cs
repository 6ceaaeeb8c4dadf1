namespace Resilient.WebSockets.Sending;

/// <summary>The completion of one <c>SendAsync</c>: done when the message is written, faulted when it is dropped,
/// cancelled when the caller cancels before the write began.</summary>
/// <remarks>
/// States: Queued → Writing (the send loop claimed it) → Done; Writing → Queued (the write failed and the message
/// waits for the next session); Queued → Withdrawn (the caller cancelled); Queued → Done (dropped). A message that is
/// being written cannot be withdrawn, so a cancelled <c>SendAsync</c> never hides a message that went out.
/// The registration on the caller's token is removed on every path that ends the send (unregistered, never waited for,
/// so ending a send never blocks on a withdrawal running on another thread).
/// </remarks>
internal sealed class PendingSend
{
    private const int Queued = 0;
    private const int Writing = 1;
    private const int Done = 2;
    private const int Withdrawn = 3;

    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private CancellationTokenRegistration _registration;
    private Action<PendingSend>? _onWithdrawn;

    public Task Task => _completion.Task;

    /// <summary>The caller withdrew the message: it is a tombstone where it waits, skipped by the next take.</summary>
    public bool IsWithdrawn => Volatile.Read(ref _state) == Withdrawn;

    /// <summary>The message waits in the queue's retry list (outside its capacity) rather than in the queue proper.
    /// Set by the queue, under its lock, before the message can be withdrawn there.</summary>
    public bool InRetry { get; set; }

    /// <summary>Lets <paramref name="cancellationToken"/> withdraw the message while it is still queued.</summary>
    public void EnableWithdrawal(Action<PendingSend> onWithdrawn, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return;
        }

        _onWithdrawn = onWithdrawn;
        _registration = cancellationToken.UnsafeRegister(
            static (state, token) => ((PendingSend)state!).Withdraw(token), this);

        // The message is in the queue already, so the send loop may have finished with it before the registration
        // existed; then nobody else will remove it, and it would root this send (and the client) from the caller's token.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _state) is Done or Withdrawn)
        {
            _registration.Unregister();
        }
    }

    public bool TryBeginWrite() => Interlocked.CompareExchange(ref _state, Writing, Queued) == Queued;

    public void ReturnToQueue() => Volatile.Write(ref _state, Queued);

    public void SetWritten()
    {
        Interlocked.Exchange(ref _state, Done);
        _registration.Unregister();
        _completion.TrySetResult();
    }

    /// <summary>Fails a queued message; false when the caller had already withdrawn it.</summary>
    public bool TryFail(Exception exception)
    {
        if (Interlocked.CompareExchange(ref _state, Done, Queued) != Queued)
        {
            return false;
        }

        _registration.Unregister();
        _completion.TrySetException(exception);
        return true;
    }

    private void Withdraw(CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref _state, Withdrawn, Queued) == Queued)
        {
            _onWithdrawn?.Invoke(this);
            _completion.TrySetCanceled(token);
        }
    }
}
