namespace Resilient.WebSockets.Health;

/// <summary>
/// Ends a session on which nothing arrived for the inactivity timeout. The receive loop only stamps the time of each
/// receive; one timer, re-armed for the remaining time whenever it fires early, does the checking.
/// </summary>
internal sealed class InactivityMonitor : IDisposable
{
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly Action<TimeSpan> _onTimeout;
    private readonly ITimer _timer;
    private long _lastActivity;

    public InactivityMonitor(TimeSpan timeout, TimeProvider timeProvider, Action<TimeSpan> onTimeout)
    {
        _timeout = timeout;
        _timeProvider = timeProvider;
        _onTimeout = onTimeout;
        _lastActivity = timeProvider.GetTimestamp();
        _timer = timeProvider.CreateTimer(static state => ((InactivityMonitor)state!).Check(), this, timeout, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Something arrived (a frame of any message).</summary>
    public void OnActivity() => Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        var idle = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (idle >= _timeout)
        {
            _onTimeout(_timeout);
            return;
        }

        try
        {
            _timer.Change(_timeout - idle, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
    }
}
