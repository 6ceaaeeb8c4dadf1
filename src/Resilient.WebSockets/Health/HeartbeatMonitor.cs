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
    private readonly Action<TimeSpan> _onTimeout;
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource? _awaitedReply;
    private Task _loop = Task.CompletedTask;

    public HeartbeatMonitor(HeartbeatOptions options, TimeProvider timeProvider, Func<string, CancellationToken, ValueTask> send, Action<TimeSpan> onTimeout)
    {
        _options = options;
        _timeProvider = timeProvider;
        _send = send;
        _onTimeout = onTimeout;
    }

    public bool PublishReplies => _options.PublishReplies;

    public void Start() => _loop = Task.Run(RunAsync);

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

    private async Task RunAsync()
    {
        var token = _stop.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(_options.Interval, _timeProvider, token).ConfigureAwait(false);
                var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _awaitedReply, reply);
                await _send(_options.Message, token).ConfigureAwait(false);
                try
                {
                    await reply.Task.WaitAsync(_options.Timeout, _timeProvider, token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    _onTimeout(_options.Timeout);
                    return;
                }
            }
        }
#pragma warning disable CA1031 // Stopped, or the send failed because the session is ending: either way the session reports why.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
