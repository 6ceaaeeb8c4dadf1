using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Receiving;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>What every part of one client shares: its validated options, its name, its logger, its clock, the sender
/// (with the send queue), the dispatcher that hands received messages to the observers, and the event streams.</summary>
internal sealed class ClientContext
{
    public ClientContext(ReconnectingWebSocketOptions options, string name, ILogger logger, MessageSender sender, MessageDispatcher dispatcher, ClientEvents events, Diagnostics.ClientMetrics metrics, Delivery.Outbox? outbox = null, Delivery.RequestTable? requests = null, Delivery.EnvelopeState? envelope = null)
    {
        Outbox = outbox;
        Requests = requests;
        Envelope = envelope;
        Incoming = Delivery.IncomingFilter.IsNeeded(options) ? new Delivery.IncomingFilter(options, outbox, requests, sender, events.Dropped, logger, name) : null;
        Options = options;
        Name = name;
        Logger = logger;
        Sender = sender;
        Dispatcher = dispatcher;
        Events = events;
        Metrics = metrics;
    }

    public ReconnectingWebSocketOptions Options { get; }

    public string Name { get; }

    public ILogger Logger { get; }

    public TimeProvider TimeProvider => Options.TimeProvider;

    public MessageSender Sender { get; }

    public MessageDispatcher Dispatcher { get; }

    public ClientEvents Events { get; }

    /// <summary>The client's measurements.</summary>
    public Diagnostics.ClientMetrics Metrics { get; }

    /// <summary>The reliable messages, with <see cref="ReconnectingWebSocketOptions.Delivery"/>; otherwise null.</summary>
    public Delivery.Outbox? Outbox { get; }

    /// <summary>The client's side of the envelope, with <see cref="ReconnectingWebSocketOptions.Envelope"/>; otherwise null.</summary>
    public Delivery.EnvelopeState? Envelope { get; }

    /// <summary>The requests waiting for responses, with <see cref="ReconnectingWebSocketOptions.Requests"/>; otherwise null.</summary>
    public Delivery.RequestTable? Requests { get; }

    /// <summary>What reads acks, responses and repeats out of incoming messages; null when no delivery feature is on.</summary>
    public Delivery.IncomingFilter? Incoming { get; }
}
