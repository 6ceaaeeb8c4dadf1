namespace Resilient.WebSockets.Health;

/// <summary>What the client's own keep-alive needs from the transport: a ping frame, and a sign that data arrived.</summary>
internal interface IKeepAliveLink
{
    /// <summary>Changes whenever data arrived from the server (see <see cref="Sending.CoalescingStream.Reads"/>).</summary>
    long Reads { get; }

    /// <summary>Writes one ping frame between two frames; does nothing once a close frame was written.</summary>
    ValueTask WritePingAsync();
}

/// <summary>
/// The client's own keep-alive on the coalescing transport, in place of the runtime's: every interval a ping frame, and
/// if nothing at all arrives within the timeout after it (the pong, or any other frame), the link is dead. One timer,
/// armed for the next ping or for the check after it; nothing on the receive path but a counter.
/// </summary>
/// <remarks>
/// Why not the runtime's: with a pong timeout, <c>ManagedWebSocket</c> takes a lock on every receive call and every read
/// of its stream, about a fifth of the time it takes to receive a small message. Here the receive path pays one
/// increment per read. It also gives a pong timeout to net8, whose runtime cannot send a ping. A ping that cannot be
/// written (the server stopped reading, so the write waits) changes nothing: if nothing arrives, the check still fires.
/// </remarks>
internal sealed class KeepAliveMonitor : IDisposable
{
    private readonly IKeepAliveLink _link;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly Action<TimeSpan, bool> _onTimeout;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly object _gate = new(); // the timer and a network check may both ping
    private long _readsAtPing;
    private long _checkAt;
    private TimeSpan _checkTimeout;
    private bool _asked;
    private bool _awaitingData;
    private int _pingInFlight;

    /// <param name="link">The transport.</param>
    /// <param name="interval">Time from one ping to the next (positive).</param>
    /// <param name="timeout">How long after a ping something must have arrived (positive, finite).</param>
    /// <param name="timeProvider">The client's clock.</param>
    /// <param name="onTimeout">Ends the session; called once, with the timeout and whether <see cref="CheckNow"/> asked for that ping.</param>
    public KeepAliveMonitor(IKeepAliveLink link, TimeSpan interval, TimeSpan timeout, TimeProvider timeProvider, Action<TimeSpan, bool> onTimeout)
    {
        _link = link;
        _time = timeProvider;
        _interval = interval;
        _timeout = timeout;
        _onTimeout = onTimeout;
        _timer = timeProvider.CreateTimer(static state => ((KeepAliveMonitor)state!).OnTimer(), this, interval, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Pings now (unless a ping is awaiting data already) and checks within <paramref name="deadline"/>, or
    /// sooner if the check under way is due sooner: the network changed, so the link may be gone.</summary>
    public void CheckNow(TimeSpan deadline)
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            if (_awaitingData && _time.GetElapsedTime(now, _checkAt) <= deadline)
            {
                return; // the check under way comes first
            }

            if (!_awaitingData)
            {
                Ping();
            }

            _asked = true;
            Arm(deadline);
        }
    }

    /// <summary>One-shot timer, re-armed here, so calls never overlap.</summary>
    private void OnTimer()
    {
        lock (_gate)
        {
            Check();
        }
    }

    private void Check()
    {
        TimeSpan next;
        if (!_awaitingData)
        {
            Ping();
            next = _timeout;
        }
        else if (_link.Reads != _readsAtPing)
        {
            // Alive. The next ping one interval after this one (at once, if the timeout is not shorter than the interval).
            _awaitingData = false;
            if (_interval > _timeout)
            {
                next = _interval - _timeout;
            }
            else
            {
                Ping();
                next = _timeout;
            }
        }
        else
        {
            _onTimeout(_checkTimeout, _asked);
            return;
        }

        _asked = false;
        Arm(next);
    }

    private void Arm(TimeSpan next)
    {
        _checkAt = _time.GetTimestamp() + (long)(next.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
        _checkTimeout = next;
        try
        {
            _timer.Change(next, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
    }

    private void Ping()
    {
        _readsAtPing = _link.Reads;
        _awaitingData = true;
        if (Interlocked.Exchange(ref _pingInFlight, 1) == 0)
        {
            _ = WritePingAsync();
        }
    }

    private async Task WritePingAsync()
    {
        try
        {
            await _link.WritePingAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The socket failed: the receive loop fails on it too and reports why.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            Volatile.Write(ref _pingInFlight, 0);
        }
    }
}
