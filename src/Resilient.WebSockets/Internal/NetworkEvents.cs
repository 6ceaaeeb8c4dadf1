using System.Net.NetworkInformation;

namespace Resilient.WebSockets.Internal;

/// <summary>What the client hears from the operating system about the network (a seam, so that unit tests drive it).</summary>
internal interface INetworkEvents
{
    /// <summary>Calls <paramref name="callback"/> whenever the OS reports that a network became available again, on a
    /// thread of its own, until the returned handle is disposed.</summary>
    IDisposable OnAvailable(Action callback);
}

/// <summary>The OS's reports, through <see cref="NetworkChange"/>: one handler for the process (attached with the first
/// subscriber), fanned out to every client's callback, so that many clients cost one subscription each in a dictionary,
/// not a longer delegate chain on a static event.</summary>
internal sealed class SystemNetworkEvents : INetworkEvents
{
    public static readonly SystemNetworkEvents Instance = new();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Subscription, Action> _callbacks = new();
    private readonly object _gate = new();
    private bool _attached;
    private bool _unsupported;

    public IDisposable OnAvailable(Action callback)
    {
        lock (_gate)
        {
            if (!_attached && !_unsupported)
            {
                try
                {
                    NetworkChange.NetworkAvailabilityChanged += OnAvailabilityChanged;
                    _attached = true;
                }
                catch (PlatformNotSupportedException)
                {
                    _unsupported = true; // no reports on this platform: the backoff runs its course
                }
            }
        }

        var subscription = new Subscription(this);
        _callbacks[subscription] = callback;
        return subscription;
    }

    private void OnAvailabilityChanged(object? sender, NetworkAvailabilityEventArgs e)
    {
        if (!e.IsAvailable)
        {
            return;
        }

        foreach (var callback in _callbacks.Values)
        {
            callback(); // the clients' own wake-ups: they only cancel a wait
        }
    }

    private sealed class Subscription(SystemNetworkEvents owner) : IDisposable
    {
        public void Dispose() => owner._callbacks.TryRemove(this, out _);
    }
}
