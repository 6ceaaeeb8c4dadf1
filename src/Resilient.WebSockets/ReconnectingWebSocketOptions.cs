using System.Net.WebSockets;

namespace Resilient.WebSockets;

/// <summary>Settings of a <see cref="ReconnectingWebSocket"/>.</summary>
/// <remarks>
/// The client validates the options once, in its constructor (throwing <see cref="ArgumentException"/> or
/// <see cref="ArgumentOutOfRangeException"/> with what was wrong and what is valid), and copies them:
/// changes made after that have no effect. One options object may configure several clients.
/// </remarks>
public sealed class ReconnectingWebSocketOptions
{
    internal const int MaxQueueCapacity = 1_048_576;
    internal const int MaxNameLength = 200;

    /// <summary>The endpoint: an absolute ws:// or wss:// URI.</summary>
    /// <value>Default: null. Required unless <see cref="UriFactory"/> is set.</value>
    public Uri? Uri { get; set; }

    /// <summary>Picks the endpoint before every connect attempt (for example, a fresh signed URL). Wins over <see cref="Uri"/>.</summary>
    /// <value>Default: null. It must return an absolute ws:// or wss:// URI; anything else fails that attempt.</value>
    public Func<CancellationToken, ValueTask<Uri>>? UriFactory { get; set; }

    /// <summary>A name for this client in logs and metrics.</summary>
    /// <value>Default: empty, which names the client after its endpoint's host and port. At most 200 characters.</value>
    public string Name { get; set; } = string.Empty;

    /// <summary>Configures each new <see cref="ClientWebSocket"/> before its connect attempt: headers, tokens,
    /// subprotocols, proxy, certificates. Runs on every attempt, so credentials can be refreshed.</summary>
    /// <value>Default: null. Not called when a custom <see cref="Connector"/> is set.</value>
    public Action<ClientWebSocketOptions>? ConfigureWebSocket { get; set; }

    /// <summary>Runs on every new session before queued messages flow: the place to authenticate and re-subscribe.
    /// What it sends through its <see cref="ConnectedContext"/> goes out before any queued message.</summary>
    /// <value>Default: null. If it throws, the session is dropped and the attempt counts as failed under the reconnect policy.
    /// Messages received while it runs are published on <see cref="ReconnectingWebSocket.Messages"/>, so it may wait for a reply.</value>
    public Func<ConnectedContext, CancellationToken, ValueTask>? OnConnected { get; set; }

    /// <summary>How long one connect attempt (TCP, TLS, handshake and <see cref="OnConnected"/>) may take.</summary>
    /// <value>Default: 10 seconds. Greater than zero, or <see cref="Timeout.InfiniteTimeSpan"/>.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a graceful close waits for the server's close frame before aborting the connection.</summary>
    /// <value>Default: 5 seconds. Greater than zero.</value>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The reconnect policy. Never null.</summary>
    /// <value>Default: exponential backoff with jitter, 1 s to 30 s, unlimited attempts.</value>
    public ReconnectOptions Reconnect { get; set; } = new();

    /// <summary>How often a ping frame is sent. With the default connector on HTTP/1.1 the client writes the ping itself
    /// (on every runtime); where it cannot (a custom connector, the runtime's own path, or a
    /// <see cref="ConfigureWebSocket"/> that changes the keep-alive settings) the runtime's keep-alive applies, which on
    /// net8 sends unsolicited pongs and never times out.</summary>
    /// <value>Default: 15 seconds. <see cref="TimeSpan.Zero"/> turns keep-alive off.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long after a ping something (its pong, or any other frame) must arrive before the peer is considered
    /// dead (reason <see cref="DisconnectReason.KeepAliveTimeout"/>).</summary>
    /// <value>Default: 15 seconds. Greater than zero, or <see cref="Timeout.InfiniteTimeSpan"/> to send pings without waiting for pongs.</value>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Ends a session on which no message arrived for this long (reason <see cref="DisconnectReason.InactivityTimeout"/>).</summary>
    /// <value>Default: null (off). When set, greater than zero.</value>
    public TimeSpan? InactivityTimeout { get; set; }

    /// <summary>Whether the client listens to the operating system's network reports: when a network becomes available
    /// again while the client waits between attempts, the next attempt starts at once instead of after the rest of the
    /// backoff (a laptop that rejoins Wi-Fi, a phone back in coverage).</summary>
    /// <value>Default: <see langword="true"/>. Reports come from <see cref="System.Net.NetworkInformation.NetworkChange"/>;
    /// on a platform without them this does nothing.</value>
    public bool WatchNetworkChanges { get; set; } = true;

    /// <summary>Where the network reports come from (tests replace it).</summary>
    internal Internal.INetworkEvents NetworkEvents { get; set; } = Internal.SystemNetworkEvents.Instance;

    /// <summary>An application-level heartbeat ("ping" and "pong" messages), for servers that expect one, and for dead-peer
    /// detection on net8, where the runtime cannot time out a missing pong.</summary>
    /// <value>Default: null (off).</value>
    public HeartbeatOptions? Heartbeat { get; set; }

    /// <summary>Acknowledged delivery for <see cref="ReconnectingWebSocket.SendReliableAsync(string, string, CancellationToken)"/>
    /// and <see cref="ReconnectingWebSocket.EnqueueReliableAsync(string, string, CancellationToken)"/>: an outbox of messages
    /// kept until the server acknowledges them (see <see cref="DeliveryOptions"/>).</summary>
    /// <value>Default: null (off; the reliable sends then throw <see cref="InvalidOperationException"/>).</value>
    public DeliveryOptions? Delivery { get; set; }

    /// <summary>Inbound de-duplication: a repeat of a message already received is not published (see <see cref="DeduplicationOptions"/>).</summary>
    /// <value>Default: null (off).</value>
    public DeduplicationOptions? Deduplication { get; set; }

    /// <summary>Request/response for <see cref="ReconnectingWebSocket.RequestAsync(string, string, TimeSpan?, CancellationToken)"/> (see <see cref="RequestOptions"/>).</summary>
    /// <value>Default: null (off; <c>RequestAsync</c> then throws <see cref="InvalidOperationException"/>).</value>
    public RequestOptions? Requests { get; set; }

    /// <summary>The envelope, for apps that control both ends: a small JSON protocol (see <see cref="EnvelopeOptions"/>) that
    /// turns on reliable sends, requests and de-duplication without any reader: <see cref="Delivery"/>,
    /// <see cref="Deduplication"/> and <see cref="Requests"/> get their defaults when null, and their readers must be null.</summary>
    /// <value>Default: null (off).</value>
    public EnvelopeOptions? Envelope { get; set; }

    /// <summary>The send queue. Never null.</summary>
    /// <value>Default: 10 000 messages, waits when full, buffers while disconnected.</value>
    public SendQueueOptions SendQueue { get; set; } = new();

    /// <summary>The buffer between the socket and the observers of <see cref="ReconnectingWebSocket.Messages"/>. Never null.</summary>
    /// <value>Default: 1 024 messages, the receive loop waits when full.</value>
    public ReceiveBufferOptions ReceiveBuffer { get; set; } = new();

    /// <summary>The largest incoming message, in bytes. A larger one closes the session with 1009 (reason <see cref="DisconnectReason.MessageTooLarge"/>) and reconnects.</summary>
    /// <value>Default: 16 MiB. Between 1 and <see cref="Array.MaxLength"/>.</value>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>The clock for every delay, timeout and timestamp, Polly included.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the client's meter comes from: the app's <see cref="System.Diagnostics.Metrics.IMeterFactory"/> (the
    /// generic host registers one), or null for one meter named <c>Resilient.WebSockets</c> shared by every client of the
    /// process. See the README's "Metrics and traces" for the instruments.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>Opens the socket of each attempt.</summary>
    /// <value>Default: null, which uses a new <see cref="ClientWebSocket"/> per attempt with <see cref="ConfigureWebSocket"/> applied.</value>
    public IWebSocketConnector? Connector { get; set; }

    /// <summary>Checks every setting the way the client's constructor does, without creating a client (the hosting
    /// package's start-up validation uses it).</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which and what is valid.</exception>
    public void Validate() => _ = ValidateAndCopy();

    /// <summary>Checks every setting and returns a copy that later changes to this object cannot reach.</summary>
    internal ReconnectingWebSocketOptions ValidateAndCopy()
    {
        if (UriFactory is null)
        {
            if (Uri is null)
            {
                throw new ArgumentException(SR.UriMissing, "options");
            }

            ValidateUri(Uri, "options.Uri");
        }

        if (Name is null || Name.Length > MaxNameLength)
        {
            throw new ArgumentException(SR.Format(SR.NameInvalid, Name), "options.Name");
        }

        RequirePositive(ConnectTimeout, "connect timeout", "options.ConnectTimeout", allowInfinite: true);
        RequirePositive(CloseTimeout, "close timeout", "options.CloseTimeout", allowInfinite: false);
        RequireNotNegative(KeepAliveInterval, "keep-alive interval", "options.KeepAliveInterval");
        RequirePositive(KeepAliveTimeout, "keep-alive timeout", "options.KeepAliveTimeout", allowInfinite: true);
        if (InactivityTimeout is { } inactivity)
        {
            RequirePositive(inactivity, "inactivity timeout", "options.InactivityTimeout", allowInfinite: false);
        }

        RequireInRange(MaxMessageSize, 1, Array.MaxLength, "maximum message size", "options.MaxMessageSize");

        var reconnect = Reconnect ?? throw new ArgumentException(SR.Format(SR.OptionRequired, "options.Reconnect"), "options.Reconnect");
        RequireNotNegative(reconnect.InitialDelay, "initial reconnect delay", "options.Reconnect.InitialDelay");
        RequireNotNegative(reconnect.MaxDelay, "maximum reconnect delay", "options.Reconnect.MaxDelay");
        if (reconnect.MaxDelay < reconnect.InitialDelay)
        {
            throw new ArgumentOutOfRangeException("options.Reconnect.MaxDelay", reconnect.MaxDelay,
                SR.Format(SR.MaxDelayBelowInitial, reconnect.MaxDelay, reconnect.InitialDelay));
        }

        if (reconnect.MaxAttempts is { } attempts)
        {
            RequireInRange(attempts, 1, int.MaxValue, "maximum number of connect attempts", "options.Reconnect.MaxAttempts");
        }

        RequireNotNegative(reconnect.MinUptime, "minimum uptime", "options.Reconnect.MinUptime");

        var queue = SendQueue ?? throw new ArgumentException(SR.Format(SR.OptionRequired, "options.SendQueue"), "options.SendQueue");
        RequireInRange(queue.Capacity, 1, MaxQueueCapacity, "send queue capacity", "options.SendQueue.Capacity");
        RequireDefined(queue.FullMode, "send queue full mode", "options.SendQueue.FullMode");
        RequireDefined(queue.WhileDisconnected, "while-disconnected mode", "options.SendQueue.WhileDisconnected");
        if (queue.TimeToLive is { } ttl)
        {
            RequirePositive(ttl, "send queue time-to-live", "options.SendQueue.TimeToLive", allowInfinite: false);
        }

        if (Heartbeat is { } heartbeat)
        {
            RequirePositive(heartbeat.Interval, "heartbeat interval", "options.Heartbeat.Interval", allowInfinite: false);
            RequirePositive(heartbeat.Timeout, "heartbeat timeout", "options.Heartbeat.Timeout", allowInfinite: false);
            if (heartbeat.Message is null || heartbeat.IsReply is null)
            {
                throw new ArgumentException(SR.Format(SR.OptionRequired, heartbeat.Message is null ? "options.Heartbeat.Message" : "options.Heartbeat.IsReply"), "options.Heartbeat");
            }
        }

        if (Delivery is { } delivery)
        {
            RequireReader(delivery.ReadAck, "options.Delivery.ReadAck");

            RequireInRange(delivery.Capacity, 1, DeliveryOptions.MaxCapacity, "outbox capacity", "options.Delivery.Capacity");
            if (delivery.MaxBytes < 1)
            {
                throw new ArgumentOutOfRangeException("options.Delivery.MaxBytes", delivery.MaxBytes, SR.Format(SR.LongOutOfRange, "outbox size in bytes", delivery.MaxBytes, 1, long.MaxValue));
            }

            RequireDefined(delivery.FullMode, "outbox full mode", "options.Delivery.FullMode");
            if (delivery.MaxInFlight is { } inFlight)
            {
                RequireInRange(inFlight, 1, delivery.Capacity, "number of messages in flight", "options.Delivery.MaxInFlight");
            }

            RequirePositive(delivery.AckTimeout, "ack timeout", "options.Delivery.AckTimeout", allowInfinite: true);
            RequireInRange(delivery.MaxAttempts, 1, int.MaxValue, "number of writes per reliable message", "options.Delivery.MaxAttempts");
            if (delivery.DeliveryTimeout is { } deliveryTimeout)
            {
                RequirePositive(deliveryTimeout, "delivery timeout", "options.Delivery.DeliveryTimeout", allowInfinite: false);
            }
        }

        if (Deduplication is { } deduplication)
        {
            RequireReader(deduplication.ReadMessageId, "options.Deduplication.ReadMessageId");

            RequireInRange(deduplication.Capacity, 1, DeliveryOptions.MaxCapacity, "de-duplication capacity", "options.Deduplication.Capacity");
            RequirePositive(deduplication.Window, "de-duplication window", "options.Deduplication.Window", allowInfinite: false);
        }

        if (Requests is { } requests)
        {
            RequireReader(requests.ReadCorrelationId, "options.Requests.ReadCorrelationId");

            RequirePositive(requests.Timeout, "request timeout", "options.Requests.Timeout", allowInfinite: false);
            RequireDefined(requests.OnDisconnect, "request disconnect mode", "options.Requests.OnDisconnect");
        }

        if (Envelope is { ClientId: null } && Delivery?.Store is not null)
        {
            throw new ArgumentException(SR.EnvelopeClientIdNeeded, "options.Envelope.ClientId");
        }

        var receive = ReceiveBuffer ?? throw new ArgumentException(SR.Format(SR.OptionRequired, "options.ReceiveBuffer"), "options.ReceiveBuffer");
        RequireInRange(receive.Capacity, 1, MaxQueueCapacity, "receive buffer capacity", "options.ReceiveBuffer.Capacity");
        RequireDefined(receive.FullMode, "receive buffer full mode", "options.ReceiveBuffer.FullMode");

        if (TimeProvider is null)
        {
            throw new ArgumentException(SR.Format(SR.OptionRequired, "options.TimeProvider"), "options.TimeProvider");
        }

        var copy = (ReconnectingWebSocketOptions)MemberwiseClone();
        copy.Reconnect = reconnect.Clone();
        copy.SendQueue = queue.Clone();
        copy.ReceiveBuffer = receive.Clone();
        copy.Heartbeat = Heartbeat?.Clone();
        copy.Delivery = Delivery?.Clone();
        copy.Deduplication = Deduplication?.Clone();
        copy.Requests = Requests?.Clone();
        copy.Envelope = Envelope?.Clone();
        if (copy.Envelope is not null)
        {
            copy.Delivery ??= new DeliveryOptions();
            copy.Deduplication ??= new DeduplicationOptions();
            copy.Requests ??= new RequestOptions();
        }
        return copy;
    }

    /// <summary>Checks an endpoint given by the app, either here or returned by <see cref="UriFactory"/>.</summary>
    internal static void ValidateUri(Uri uri, string paramName)
    {
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException(SR.Format(SR.UriNotAbsolute, Redaction.Uri(uri.OriginalString)), paramName);
        }

        if (uri.Scheme != "ws" && uri.Scheme != "wss")
        {
            throw new ArgumentException(SR.Format(SR.UriSchemeInvalid, uri.Scheme), paramName);
        }
    }

    /// <summary>A reader the app must set, unless the envelope reads for itself (then the app must not set one).</summary>
    private void RequireReader(Delegate? reader, string paramName)
    {
        if (Envelope is null && reader is null)
        {
            throw new ArgumentException(SR.Format(SR.OptionRequired, paramName), paramName);
        }

        if (Envelope is not null && reader is not null)
        {
            throw new ArgumentException(SR.Format(SR.ReaderWithEnvelope, paramName), paramName);
        }
    }

    private static void RequirePositive(TimeSpan value, string what, string paramName, bool allowInfinite)
    {
        if (allowInfinite && value == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, value,
                SR.Format(SR.TimeSpanNotPositive, what, value, allowInfinite ? ", or Timeout.InfiniteTimeSpan" : string.Empty));
        }
    }

    private static void RequireDefined<TEnum>(TEnum value, string what, string paramName)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, SR.Format(SR.EnumInvalid, what, value, string.Join(", ", Enum.GetNames<TEnum>())));
        }
    }

    private static void RequireNotNegative(TimeSpan value, string what, string paramName)
    {
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, value, SR.Format(SR.TimeSpanNegative, what, value));
        }
    }

    private static void RequireInRange(int value, int min, int max, string what, string paramName)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(paramName, value, SR.Format(SR.IntOutOfRange, what, value, min, max));
        }
    }
}
