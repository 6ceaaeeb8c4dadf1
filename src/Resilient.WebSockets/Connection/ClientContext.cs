using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>What every part of one client shares: its validated options, its name, its logger, its clock,
/// its send queue and the stream it publishes messages on.</summary>
internal sealed class ClientContext
{
    public ClientContext(ReconnectingWebSocketOptions options, string name, ILogger logger, SendQueue sendQueue, Broadcast<WebSocketMessage> messages)
    {
        Options = options;
        Name = name;
        Logger = logger;
        SendQueue = sendQueue;
        Messages = messages;
    }

    public ReconnectingWebSocketOptions Options { get; }

    public string Name { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider => Options.TimeProvider;

    public SendQueue SendQueue { get; }

    public Broadcast<WebSocketMessage> Messages { get; }
}
