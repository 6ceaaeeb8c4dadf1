using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>What every part of one client shares: its validated options, its name, its logger, its clock, the sender
/// (with the send queue), the dispatcher that hands received messages to the observers, and the event streams.</summary>
internal sealed class ClientContext
{
    public ClientContext(ReconnectingWebSocketOptions options, string name, ILogger logger, MessageSender sender, MessageDispatcher dispatcher, ClientEvents events)
    {
        Options = options;
        Name = name;
        Logger = logger;
        Sender = sender;
        Dispatcher = dispatcher;
        Events = events;
    }

    public ReconnectingWebSocketOptions Options { get; }

    public string Name { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider => Options.TimeProvider;

    public MessageSender Sender { get; }

    public MessageDispatcher Dispatcher { get; }

    public ClientEvents Events { get; }
}
