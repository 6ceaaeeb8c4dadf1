namespace Resilient.WebSockets.Health;

/// <summary>
/// The application heartbeat of one session: every interval it sends the heartbeat message and waits for a reply the
/// user's predicate recognises; a missing reply ends the session.
/// </summary>
internal sealed class HeartbeatMonitor : IAsyncDisposable
{
    private readonly HeartbeatOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Func<string, CancellationToken, ValueTask> _send;
    private readonly Action<TimeSpan, bool> _onTimeout;
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource? _awaitedReply;
    private TaskCompletionSource _checkNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _checkDeadline;
    private Task _loop = Task.CompletedTask;

    /// <param name="options">The heartbeat's settings.</param>
    /// <param name="timeProvider">The client's clock.</param>
    /// <param name="send">Writes the heartbeat message ahead of the queue.</param>
    /// <param name="onTimeout">Ends the session, with the timeout that ran out and whether it was a check asked for by <see cref="CheckNow"/>.</param>
    public HeartbeatMonitor(HeartbeatOptions options, TimeProvider timeProvider, Func<string, CancellationToken, ValueTask> send, Action<TimeSpan, bool> onTimeout)
    {
        _options = options;
        _timeProvider = timeProvider;
        _send = send;
        _onTimeout = onTimeout;
    }

    public bool PublishReplies => _options.PublishReplies;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Sends the heartbeat now, and waits at most <paramref name="deadline"/> (or the heartbeat's timeout, if
    /// shorter) for its reply; then the schedule goes on from there. Nothing changes while a reply is awaited already.</summary>
    public void CheckNow(TimeSpan deadline)
    {
        _checkDeadline = deadline;
        Volatile.Read(ref _checkNow).TrySetResult();
    }

    /// <summary>Whether <paramref name="message"/> is a heartbeat reply (if so, the awaited reply has come). A predicate that throws recognises nothing.</summary>
    public bool IsReply(WebSocketMessage message)
    {
        bool isReply;
        try
        {
            isReply = _options.IsReply(message);
        }
#pragma warning disable CA1031 // The user's predicate must not end the receive loop.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }

        if (isReply)
        {
            Volatile.Read(ref _awaitedReply)?.TrySetResult();
        }

        return isReply;
    }

    public void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already stopped and disposed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private async Task RunAsync()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var checkNow = Volatile.Read(ref _checkNow);
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(token))
                {
                    await Task.WhenAny(Task.Delay(_options.Interval, _timeProvider, wait.Token), checkNow.Task).ConfigureAwait(false);
                    wait.Cancel(); // the delay, if the check came first
                }

                token.ThrowIfCancellationRequested();
                bool asked = checkNow.Task.IsCompleted;
                var timeout = asked && _checkDeadline < _options.Timeout ? _checkDeadline : _options.Timeout;
                if (asked)
                {
                    Volatile.Write(ref _checkNow, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                }

                var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _awaitedReply, reply);

                // The deadline runs from the hand-over, not from the end of the write: on a dead link whose send buffer
                // is full the write never ends, and that is as much a missing reply as a reply that never comes.
                var sending = _send(_options.Message, token).AsTask();
                var replied = reply.Task.WaitAsync(timeout, _timeProvider, token);
                if (await Task.WhenAny(replied, sending).ConfigureAwait(false) == sending && !sending.IsCompletedSuccessfully)
                {
                    await sending.ConfigureAwait(false); // the session is ending: it reports why (caught below)
                }

                try
                {
                    await replied.ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Observe(sending); // still stuck in the dead link's write; it fails when the session ends
                    _onTimeout(timeout, asked);
                    return;
                }

                await sending.ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Stopped, or the send failed because the session is ending: either way the session reports why.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
