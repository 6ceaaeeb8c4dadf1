namespace Resilient.WebSockets.Reconnection;

/// <summary>Exponential backoff: <c>InitialDelay × 2^index</c>, capped at <c>MaxDelay</c>, spread by ±<see cref="JitterFactor"/> when jitter is on
/// and clamped to the cap again afterwards.</summary>
internal sealed class Backoff
{
    public const double JitterFactor = 0.2;

    private readonly double _initialMs;
    private readonly double _maxMs;
    private readonly bool _useJitter;
    private readonly Func<double> _random;

    public Backoff(ReconnectOptions options, Func<double>? random = null)
    {
        _initialMs = options.InitialDelay.TotalMilliseconds;
        _maxMs = options.MaxDelay.TotalMilliseconds;
        _useJitter = options.UseJitter;
        _random = random ?? Random.Shared.NextDouble;
    }

    /// <summary>The delay after a planned restart by the server: the initial delay, spread over half to one and a half
    /// times itself when jitter is on (a wider spread than the backoff's, since every client of that server comes back at
    /// once), at most the maximum delay.</summary>
    public TimeSpan GetPlannedRestartDelay()
    {
        double ms = _useJitter ? _initialMs * (0.5 + _random()) : _initialMs;
        return TimeSpan.FromMilliseconds(Math.Min(ms, _maxMs));
    }

    /// <summary>The delay for step <paramref name="index"/> (0 = the initial delay).</summary>
    public TimeSpan GetDelay(int index)
    {
        double ms = Math.Min(_initialMs * Math.Pow(2, Math.Min(index, 62)), _maxMs);
        if (_useJitter)
        {
            ms *= 1 + ((_random() * 2) - 1) * JitterFactor;
            ms = Math.Clamp(ms, 0, _maxMs);
        }

        return TimeSpan.FromMilliseconds(ms);
    }
}
