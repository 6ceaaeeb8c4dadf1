using System.Net.WebSockets;
using System.Threading.Channels;

namespace Resilient.WebSockets.Connection;

/// <summary>How the app asked a run to end.</summary>
internal sealed record StopRequest(
    DisconnectReason Reason,
    WebSocketCloseStatus CloseStatus,
    string? Description,
    bool Flush,
    CancellationToken CancellationToken);

/// <summary>A request the app makes of a running supervisor: a stop, or a new session (with the task to complete at
/// the next connect).</summary>
internal abstract record SupervisorCommand
{
    public sealed record Stop(StopRequest Request) : SupervisorCommand;

    public sealed record Reconnect(TaskCompletionSource Connected) : SupervisorCommand;
}

/// <summary>
/// One run of the supervisor, from <c>StartAsync</c> to the stop: the one inbox of the app's requests, its cancellation
/// (connect attempts and delays only, never a live session), and the task <c>StartAsync</c> waits for.
/// </summary>
/// <remarks>The supervisor is the inbox's only reader. Requesting never runs anything but the client's own cancellation
/// callbacks, and callers hold none of the client's locks while they request.</remarks>
#pragma warning disable CA1001 // The wait's source is disposed by Close, the end of every run; the run itself holds nothing else.
internal sealed class SupervisorRun
#pragma warning restore CA1001
{
    private readonly Channel<SupervisorCommand> _inbox = Channel.CreateUnbounded<SupervisorCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly object _gate = new();
    private StopRequest? _stop;
    private Exception? _lastFailure;
    private bool _reconnectPending;
    private CancellationTokenSource? _wait;

    /// <summary>Cancelled by a stop. Not disposed: it has no timer, and late stops may still cancel it.</summary>
    public CancellationTokenSource Cancellation { get; } = new();

    /// <summary>Completes at the first connect of the run; faults with the policy's last exception, or is cancelled.</summary>
    public TaskCompletionSource FirstConnected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The supervisor's task for this run; it completes when nothing of the run is left running.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    public StopRequest? Stop => Volatile.Read(ref _stop);

    /// <summary>The last failed attempt's exception, for a <c>StartAsync</c> that is cancelled before the first connect.</summary>
    public Exception? LastFailure
    {
        get => Volatile.Read(ref _lastFailure);
        set => Volatile.Write(ref _lastFailure, value);
    }

    public ChannelReader<SupervisorCommand> Inbox => _inbox.Reader;

    /// <summary>Asks the run to end; false if a stop was already asked for (the first one wins).</summary>
    public bool RequestStop(StopRequest request)
    {
        if (Interlocked.CompareExchange(ref _stop, request, null) is not null)
        {
            return false;
        }

        _inbox.Writer.TryWrite(new SupervisorCommand.Stop(request));
        Cancellation.Cancel();
        return true;
    }

    /// <summary>Asks for a new session now; the task completes at the next connect, or faults if the run ends first.
    /// A wait after a lost session is cut short.</summary>
    public Task RequestReconnect()
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationTokenSource? wait;
        lock (_gate)
        {
            _reconnectPending = true;
            wait = _wait;
        }

        if (!_inbox.Writer.TryWrite(new SupervisorCommand.Reconnect(connected)))
        {
            connected.TrySetException(new InvalidOperationException(SR.Format(SR.NotStarted, ConnectionState.Stopped)));
        }

        CancelQuietly(wait);
        return connected.Task;
    }

    /// <summary>A token for the wait after a lost session: already cancelled when a reconnect is pending.</summary>
    public CancellationToken BeginWait()
    {
        lock (_gate)
        {
            _wait?.Dispose();
            _wait = new CancellationTokenSource();
            if (_reconnectPending)
            {
                _wait.Cancel();
            }

            return _wait.Token;
        }
    }

    /// <summary>Takes every request waiting in the inbox; reconnect requests are answered by the connect being made.</summary>
    public void TakePending(List<TaskCompletionSource> reconnectWaiters)
    {
        lock (_gate)
        {
            _reconnectPending = false;
        }

        while (_inbox.Reader.TryRead(out var command))
        {
            if (command is SupervisorCommand.Reconnect reconnect)
            {
                reconnectWaiters.Add(reconnect.Connected);
            }
        }
    }

    /// <summary>The run is over: no request is taken any more; those left are failed with <paramref name="error"/>.</summary>
    public void Close(List<TaskCompletionSource> reconnectWaiters, Exception error)
    {
        _inbox.Writer.TryComplete();
        TakePending(reconnectWaiters);
        foreach (var waiter in reconnectWaiters)
        {
            waiter.TrySetException(error);
        }

        reconnectWaiters.Clear();
        lock (_gate)
        {
            _wait?.Dispose();
            _wait = null;
        }
    }

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That wait is over already.
        }
    }
}
