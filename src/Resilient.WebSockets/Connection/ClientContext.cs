using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>What every part of one client shares: its validated options, its name, its logger, its clock,
/// its send queue and the dispatcher that hands received messages to the observers.</summary>
internal sealed class ClientContext
{
    public ClientContext(ReconnectingWebSocketOptions options, string name, ILogger logger, SendQueue sendQueue, MessageDispatcher dispatcher)
    {
        Options = options;
        Name = name;
        Logger = logger;
        SendQueue = sendQueue;
        Dispatcher = dispatcher;
    }

    public ReconnectingWebSocketOptions Options { get; }

    public string Name { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider => Options.TimeProvider;

    public SendQueue SendQueue { get; }

    public MessageDispatcher Dispatcher { get; }

    /// <summary>Drops what is queued with <paramref name="reason"/>, logs how many, and returns how many.</summary>
    public int DropQueued(DropReason reason)
    {
        int dropped = SendQueue.Clear(reason);
        if (dropped > 0)
        {
            Log.SendsDropped(Logger, Name, dropped, reason);
        }

        return dropped;
    }
}
