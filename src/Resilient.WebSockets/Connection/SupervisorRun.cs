using System.Net.WebSockets;

namespace Resilient.WebSockets.Connection;

/// <summary>How the app asked a run to end.</summary>
internal sealed record StopRequest(
    DisconnectReason Reason,
    WebSocketCloseStatus CloseStatus,
    string? Description,
    bool Flush,
    CancellationToken CancellationToken);

/// <summary>
/// One run of the supervisor, from <c>StartAsync</c> to the stop: its cancellation (connect attempts and delays only,
/// never a live session), the task <c>StartAsync</c> waits for, and the requests the app makes while it runs.
/// </summary>
internal sealed class SupervisorRun
{
    private readonly object _gate = new();
    private TaskCompletionSource _signal = NewSource();
    private StopRequest? _stop;
    private bool _reconnectPending;
    private List<TaskCompletionSource>? _reconnectWaiters;

    /// <summary>Cancelled by a stop. Not disposed: it has no timer, and late stops may still cancel it.</summary>
    public CancellationTokenSource Cancellation { get; } = new();

    /// <summary>Completes at the first connect of the run; faults with the policy's last exception, or is cancelled.</summary>
    public TaskCompletionSource FirstConnected { get; } = NewSource();

    /// <summary>The supervisor's task for this run; it completes when nothing of the run is left running.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    public StopRequest? Stop
    {
        get
        {
            lock (_gate)
            {
                return _stop;
            }
        }
    }

    /// <summary>Completes when a stop or a reconnect has been requested and not yet taken.</summary>
    public Task Signal
    {
        get
        {
            lock (_gate)
            {
                return _signal.Task;
            }
        }
    }

    public bool RequestStop(StopRequest request)
    {
        lock (_gate)
        {
            if (_stop is not null)
            {
                return false;
            }

            _stop = request;
            _signal.TrySetResult();
        }

        Cancellation.Cancel();
        return true;
    }

    /// <summary>Asks for a new session now; the task completes at the next connect, or faults if the run ends first.</summary>
    public Task RequestReconnect()
    {
        var waiter = NewSource();
        lock (_gate)
        {
            _reconnectPending = true;
            (_reconnectWaiters ??= []).Add(waiter);
            _signal.TrySetResult();
        }

        return waiter.Task;
    }

    /// <summary>Takes a pending reconnect request, if any.</summary>
    public bool TakeReconnect()
    {
        lock (_gate)
        {
            if (!_reconnectPending)
            {
                return false;
            }

            _reconnectPending = false;
            if (_stop is null)
            {
                _signal = NewSource();
            }

            return true;
        }
    }

    /// <summary>Completes (or, with <paramref name="error"/>, fails) every <see cref="RequestReconnect"/> task so far.</summary>
    public void CompleteReconnectWaiters(Exception? error)
    {
        List<TaskCompletionSource>? waiters;
        lock (_gate)
        {
            waiters = _reconnectWaiters;
            _reconnectWaiters = null;
        }

        foreach (var waiter in waiters ?? [])
        {
            if (error is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(error);
            }
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
