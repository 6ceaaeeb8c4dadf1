using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>What a client shares with its insides (<see cref="ClientContext"/>), wired as the client wires it, for tests
/// of one internal part (the supervisor, a session) without the facade.</summary>
internal static class TestContexts
{
    public static (ClientContext Context, ConnectionStateMachine State) Create(ReconnectingWebSocketOptions options)
    {
        var validated = options.ValidateAndCopy();
        var logger = NullLogger.Instance;
        var events = new ClientEvents(_ => { });
        var dispatcher = new MessageDispatcher(validated.ReceiveBuffer, new Broadcast<WebSocketMessage>(_ => { }), (_, _, _) => { });
        var state = new ConnectionStateMachine(logger, "test", events);
        var sender = new MessageSender(validated.SendQueue, validated.TimeProvider, () => state.Current == ConnectionState.Connected, events.Dropped, metrics: null, logger, "test");
        var metrics = new Resilient.WebSockets.Diagnostics.ClientMetrics(validated.MeterFactory, "test", validated.Uri, () => sender.Queue.Count, outbox: null);
        return (new ClientContext(validated, "test", logger, sender, dispatcher, events, metrics), state);
    }
}
