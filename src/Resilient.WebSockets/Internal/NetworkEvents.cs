using System.Collections.Concurrent;
using System.Net.NetworkInformation;

namespace Resilient.WebSockets.Internal;

/// <summary>What the client hears from the operating system about the network (a seam, so that unit tests drive it).</summary>
internal interface INetworkEvents
{
    /// <summary>Calls <paramref name="callback"/> whenever the OS reports that a network became available again, on a
    /// thread of its own, until the returned handle is disposed.</summary>
    IDisposable OnAvailable(Action callback);

    /// <summary>Calls <paramref name="callback"/> whenever the OS reports that an address of a network interface changed
    /// (one came or went: Wi-Fi to mobile, a VPN, a lease), on a thread of its own, until the handle is disposed.</summary>
    IDisposable OnAddressChanged(Action callback);
}

/// <summary>The OS's reports, through <see cref="NetworkChange"/>: one handler per event for the process (attached with
/// the first subscriber), fanned out to every client's callback, so that many clients cost one entry each in a
/// dictionary, not a longer delegate chain on a static event.</summary>
internal sealed class SystemNetworkEvents : INetworkEvents
{
    public static readonly SystemNetworkEvents Instance = new();

    private readonly Fanout _available = new(handler => NetworkChange.NetworkAvailabilityChanged += (_, e) =>
    {
        if (e.IsAvailable)
        {
            handler();
        }
    });

    private readonly Fanout _addressChanged = new(handler => NetworkChange.NetworkAddressChanged += (_, _) => handler());

    public IDisposable OnAvailable(Action callback) => _available.Add(callback);

    public IDisposable OnAddressChanged(Action callback) => _addressChanged.Add(callback);

    /// <summary>One OS event, attached once, calling every subscriber's callback (the clients' own: they only cancel a
    /// wait or start a check).</summary>
    private sealed class Fanout(Action<Action> attach)
    {
        private readonly ConcurrentDictionary<Subscription, Action> _callbacks = new();
        private readonly object _gate = new();
        private bool _attached;
        private bool _unsupported;

        public IDisposable Add(Action callback)
        {
            lock (_gate)
            {
                if (!_attached && !_unsupported)
                {
                    try
                    {
                        attach(Raise);
                        _attached = true;
                    }
                    catch (PlatformNotSupportedException)
                    {
                        _unsupported = true; // no reports on this platform: nothing happens early
                    }
                }
            }

            var subscription = new Subscription(this);
            _callbacks[subscription] = callback;
            return subscription;
        }

        private void Raise()
        {
            foreach (var callback in _callbacks.Values)
            {
                callback();
            }
        }

        private sealed class Subscription(Fanout owner) : IDisposable
        {
            public void Dispose() => owner._callbacks.TryRemove(this, out _);
        }
    }
}
