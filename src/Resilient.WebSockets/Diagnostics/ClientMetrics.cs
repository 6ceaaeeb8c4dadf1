using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Resilient.WebSockets.Diagnostics;

/// <summary>
/// One client's measurements, on the instruments of the meter <c>Resilient.WebSockets</c> (from the app's
/// <see cref="IMeterFactory"/> when one is given, otherwise one meter shared by every client of the process). Every
/// measurement carries the client's name and its endpoint's <c>server.address</c>, <c>server.port</c> and
/// <c>url.scheme</c>; never a path, query, header, payload, close description, message id or exception message.
/// </summary>
/// <remarks>
/// <para>Each recording first asks whether anyone listens to that instrument (one field read), so a client nobody
/// measures pays nothing more. Nothing is recorded under a lock of the client: a listener's callback is user code.</para>
/// <para>The queue and outbox gauges are observable: the meter's listener asks every live client of that meter when it
/// collects (the clients are held weakly, so an undisposed, unreachable client drops out by itself).</para>
/// </remarks>
internal sealed class ClientMetrics : IDisposable
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "Resilient.WebSockets";

    private static readonly string? Version = typeof(ClientMetrics).Assembly.GetName().Version?.ToString();
    private static readonly Lazy<Meter> SharedMeter = new(() => new Meter(Name, Version));
    private static readonly ConditionalWeakTable<Meter, Instruments> InstrumentsByMeter = new();

    /// <summary>The client's spans: <c>websocket.connect</c> (an attempt), <c>websocket.session</c>,
    /// <c>websocket.send_reliable</c> and <c>websocket.request</c>; created only while a listener samples them.</summary>
    public static readonly ActivitySource Activities = new(Name, Version);

    private readonly Instruments _instruments;
    private readonly string _clientName;
    private readonly Func<int> _queueLength;
    private readonly Func<(int Messages, long Bytes)>? _outbox;
    private Endpoint _endpoint;

    public ClientMetrics(IMeterFactory? factory, string clientName, Uri? uri, Func<int> queueLength, Func<(int Messages, long Bytes)>? outbox)
    {
        var meter = factory is null ? SharedMeter.Value : factory.Create(new MeterOptions(Name) { Version = Version });
        _instruments = InstrumentsByMeter.GetValue(meter, static m => new Instruments(m));
        _clientName = clientName;
        _queueLength = queueLength;
        _outbox = outbox;
        _endpoint = uri is null ? Endpoint.Unknown : new Endpoint(uri);
        _instruments.Clients.Add(this, null);
    }

    /// <summary>The endpoint the measurements are tagged with: the one of the latest connect attempt.</summary>
    public void SetEndpoint(Uri uri)
    {
        if (!_endpoint.Matches(uri))
        {
            Volatile.Write(ref _endpoint, new Endpoint(uri));
        }
    }

    /// <summary>One connect attempt ended: connected (<paramref name="error"/> null) or failed.</summary>
    public void AttemptEnded(TimeSpan duration, Exception? error) => RecordOutcome(_instruments.ConnectDuration, duration, error);

    /// <summary>A session went live; <paramref name="downtime"/> is how long the client was without one (reconnects only).</summary>
    public void SessionStarted(TimeSpan? downtime)
    {
        if (_instruments.ActiveSessions.Enabled)
        {
            _instruments.ActiveSessions.Add(1, Common());
        }

        if (downtime is { } down && _instruments.Downtime.Enabled)
        {
            _instruments.Downtime.Record(down.TotalSeconds, Common());
        }
    }

    /// <summary>A live session ended.</summary>
    public void SessionEnded(TimeSpan duration, DisconnectedInfo ended)
    {
        if (_instruments.ActiveSessions.Enabled)
        {
            _instruments.ActiveSessions.Add(-1, Common());
        }

        if (_instruments.SessionDuration.Enabled)
        {
            var tags = Common();
            tags.Add("websocket.disconnect.reason", SnakeCase<DisconnectReason>.Of(ended.Reason));
            if (ended.CloseStatus is { } status)
            {
                tags.Add("websocket.close.code", (int)status);
            }

            _instruments.SessionDuration.Record(duration.TotalSeconds, tags);
        }
    }

    /// <summary>One message of <paramref name="type"/> and <paramref name="bytes"/> bytes was written.</summary>
    public void Sent(WebSocketMessageType type, int bytes)
    {
        if (_instruments.SentMessages.Enabled)
        {
            _instruments.SentMessages.Add(1, WithType(type));
        }

        if (_instruments.SentBytes.Enabled)
        {
            _instruments.SentBytes.Add(bytes, WithType(type));
        }
    }

    /// <summary>One whole message was read from the socket.</summary>
    public void Received(WebSocketMessageType type, int bytes)
    {
        if (_instruments.ReceivedMessages.Enabled)
        {
            _instruments.ReceivedMessages.Add(1, WithType(type));
        }

        if (_instruments.ReceivedBytes.Enabled)
        {
            _instruments.ReceivedBytes.Add(bytes, WithType(type));
        }
    }

    /// <summary>A message was not delivered (recorded as its report reaches the observers: never under a lock).</summary>
    public void Dropped(DroppedMessage dropped)
    {
        if (_instruments.DroppedMessages.Enabled)
        {
            var tags = Common();
            tags.Add("websocket.message.direction", dropped.Direction == MessageDirection.Outgoing ? "outgoing" : "incoming");
            tags.Add("websocket.drop.reason", SnakeCase<DropReason>.Of(dropped.Reason));
            _instruments.DroppedMessages.Add(1, tags);
        }
    }

    /// <summary>A reliable message was acknowledged (its latency: from its acceptance to the ack).</summary>
    public void Acknowledged(AcknowledgedMessage acknowledged)
    {
        if (_instruments.AckDuration.Enabled)
        {
            _instruments.AckDuration.Record(acknowledged.Latency.TotalSeconds, Common());
        }
    }

    /// <summary>Reliable messages were written again (their ack did not come in time, or a session ended first).</summary>
    public void Resent(int count)
    {
        if (_instruments.ResentMessages.Enabled)
        {
            _instruments.ResentMessages.Add(count, Common());
        }
    }

    /// <summary>A request ended: answered (<paramref name="error"/> null), or failed.</summary>
    public void RequestEnded(TimeSpan duration, Exception? error) => RecordOutcome(_instruments.RequestDuration, duration, error);

    public void Dispose() => _instruments.Clients.Remove(this);

    /// <summary>Starts one of the client's spans (null when no listener wants it), tagged like the measurements.</summary>
    public Activity? StartActivity(string name, ActivityKind kind)
    {
        var activity = Activities.StartActivity(name, kind);
        if (activity is { IsAllDataRequested: true })
        {
            TagActivity(activity);
        }

        return activity;
    }

    /// <summary>Ends <paramref name="activity"/> as failed by <paramref name="error"/> (its type, never its message).</summary>
    public static void Fail(Activity? activity, Exception error) => Fail(activity, ErrorType(error));

    /// <summary>Ends <paramref name="activity"/> as failed, with <c>error.type</c> = <paramref name="errorType"/>.</summary>
    public static void Fail(Activity? activity, string errorType)
    {
        if (activity is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    /// <summary>Ends a session's span with why it ended; a loss (anything the app did not ask for) is an error.</summary>
    public static void SessionEnded(Activity? activity, DisconnectedInfo ended)
    {
        if (activity is null)
        {
            return;
        }

        string reason = SnakeCase<DisconnectReason>.Of(ended.Reason);
        activity.SetTag("websocket.disconnect.reason", reason);
        if (ended.CloseStatus is { } status)
        {
            activity.SetTag("websocket.close.code", (int)status);
        }

        if (ended.Reason is not (DisconnectReason.Stopped or DisconnectReason.Disposed or DisconnectReason.ReconnectRequested))
        {
            Fail(activity, reason);
        }

        activity.Dispose();
    }

    /// <summary>Tags <paramref name="activity"/> with the client's name and endpoint (the latest attempt's).</summary>
    public void TagActivity(Activity activity)
    {
        foreach (var tag in Common())
        {
            activity.SetTag(tag.Key, tag.Value);
        }
    }

    /// <summary>What <c>error.type</c> says about a failure: the exception's type (OpenTelemetry's convention), never its message.</summary>
    internal static string ErrorType(Exception error) => error switch
    {
        MessageDroppedException dropped => SnakeCase<DropReason>.Of(dropped.Reason),
        OperationCanceledException => "cancelled",
        TimeoutException => "timeout",
        WebSocketHandshakeException => "handshake_refused",
        _ => error.GetType().FullName ?? "unknown",
    };

    private void RecordOutcome(Histogram<double> histogram, TimeSpan duration, Exception? error)
    {
        if (histogram.Enabled)
        {
            var tags = Common();
            if (error is not null)
            {
                tags.Add("error.type", ErrorType(error));
            }

            histogram.Record(duration.TotalSeconds, tags);
        }
    }

    private TagList Common()
    {
        var endpoint = Volatile.Read(ref _endpoint);
        return new TagList
        {
            { "websocket.client.name", _clientName },
            { "server.address", endpoint.Address },
            { "server.port", endpoint.Port },
            { "url.scheme", endpoint.Scheme },
        };
    }

    private TagList WithType(WebSocketMessageType type)
    {
        var tags = Common();
        tags.Add("websocket.message.type", type == WebSocketMessageType.Text ? "text" : "binary");
        return tags;
    }

    private IEnumerable<Measurement<long>> ObserveQueue()
    {
        var tags = Common();
        return [new Measurement<long>(_queueLength(), tags)];
    }

    /// <summary>The endpoint's tags: host, port, scheme (boxed once per endpoint, not per measurement).</summary>
    private sealed class Endpoint
    {
        public static readonly Endpoint Unknown = new();

        private readonly Uri? _uri;

        public Endpoint(Uri uri)
        {
            _uri = uri;
            Address = uri.IdnHost;
            Port = uri.Port;
            Scheme = uri.Scheme;
        }

        private Endpoint()
        {
            Address = "unknown";
            Port = 0;
            Scheme = "unknown";
        }

        public string Address { get; }

        public object Port { get; }

        public string Scheme { get; }

        public bool Matches(Uri uri) => _uri is not null && _uri.IdnHost == uri.IdnHost && _uri.Port == uri.Port && _uri.Scheme == uri.Scheme;
    }

    /// <summary>An enum value as OpenTelemetry spells tag values: snake_case (KeepAliveTimeout is keep_alive_timeout).</summary>
    internal static class SnakeCase<T>
        where T : struct, Enum
    {
        private static readonly ConcurrentDictionary<T, string> Cache = new();

        public static string Of(T value) => Cache.GetOrAdd(value, static v => Convert(v.ToString()));

        private static string Convert(string name)
        {
            var builder = new System.Text.StringBuilder(name.Length + 4);
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                if (char.IsUpper(c))
                {
                    if (i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                    {
                        builder.Append('_');
                    }

                    builder.Append(char.ToLowerInvariant(c));
                }
                else
                {
                    builder.Append(c);
                }
            }

            return builder.ToString();
        }
    }

    /// <summary>The instruments of one meter, shared by every client measured through it.</summary>
    private sealed class Instruments
    {
        public Instruments(Meter meter)
        {
            const string Prefix = "websocket.client.";
            ConnectDuration = Seconds(meter, Prefix + "connect.duration", "Duration of one connect attempt (TCP, TLS, proxy, handshake and OnConnected).", ShortBuckets);
            ActiveSessions = meter.CreateUpDownCounter<long>(Prefix + "active_sessions", "{session}", "Sessions connected now.");
            SessionDuration = Seconds(meter, Prefix + "session.duration", "How long a session lasted, by why it ended.", SessionBuckets);
            Downtime = Seconds(meter, Prefix + "downtime", "Time without a session, from a loss to the reconnect.", DowntimeBuckets);
            SentMessages = meter.CreateCounter<long>(Prefix + "sent.messages", "{message}", "Messages written to a socket.");
            SentBytes = meter.CreateCounter<long>(Prefix + "sent.bytes", "By", "Payload bytes written to a socket.");
            ReceivedMessages = meter.CreateCounter<long>(Prefix + "received.messages", "{message}", "Whole messages read from a socket.");
            ReceivedBytes = meter.CreateCounter<long>(Prefix + "received.bytes", "By", "Payload bytes of the messages read.");
            DroppedMessages = meter.CreateCounter<long>(Prefix + "dropped.messages", "{message}", "Messages not delivered, by direction and reason.");
            AckDuration = Seconds(meter, Prefix + "ack.duration", "From a reliable message's acceptance to its acknowledgement.", ShortBuckets);
            RequestDuration = Seconds(meter, Prefix + "request.duration", "From a request to its response (or failure).", ShortBuckets);
            ResentMessages = meter.CreateCounter<long>(Prefix + "resent.messages", "{message}", "Reliable messages written again.");
            meter.CreateObservableUpDownCounter(Prefix + "send_queue.messages", () => Observe(static c => c.ObserveQueue()), "{message}", "Messages waiting in the send queue.");
            meter.CreateObservableUpDownCounter(Prefix + "outbox.messages", () => Observe(static c => c.ObserveOutbox(bytes: false)), "{message}", "Reliable messages held in the outbox.");
            meter.CreateObservableUpDownCounter(Prefix + "outbox.bytes", () => Observe(static c => c.ObserveOutbox(bytes: true)), "By", "Payload bytes held in the outbox.");
        }

        /// <summary>Bucket boundaries, in seconds, for what takes milliseconds to seconds (an attempt, an ack, a
        /// request): OpenTelemetry's defaults (0, 5, 10, 25… in seconds) would put all of it in the first bucket.</summary>
        internal static readonly double[] ShortBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30];

        /// <summary>Bucket boundaries, in seconds, for an outage: a blip to ten minutes.</summary>
        internal static readonly double[] DowntimeBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

        /// <summary>Bucket boundaries, in seconds, for a session: a flap to a day.</summary>
        internal static readonly double[] SessionBuckets = [0.1, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 14400, 43200, 86400];

        public ConditionalWeakTable<ClientMetrics, object?> Clients { get; } = new();

        public Histogram<double> ConnectDuration { get; }

        public UpDownCounter<long> ActiveSessions { get; }

        public Histogram<double> SessionDuration { get; }

        public Histogram<double> Downtime { get; }

        public Counter<long> SentMessages { get; }

        public Counter<long> SentBytes { get; }

        public Counter<long> ReceivedMessages { get; }

        public Counter<long> ReceivedBytes { get; }

        public Counter<long> DroppedMessages { get; }

        public Histogram<double> AckDuration { get; }

        public Histogram<double> RequestDuration { get; }

        public Counter<long> ResentMessages { get; }

        /// <summary>A histogram in seconds with bucket boundaries that fit it (advice, from .NET 9 on; on net8 the
        /// listener's defaults apply, and an OpenTelemetry view can set them).</summary>
        private static Histogram<double> Seconds(Meter meter, string name, string description, double[] buckets) =>
#if NET9_0_OR_GREATER
            meter.CreateHistogram<double>(name, "s", description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });
#else
            meter.CreateHistogram<double>(name, "s", description);
#endif

        private List<Measurement<long>> Observe(Func<ClientMetrics, IEnumerable<Measurement<long>>> observe)
        {
            var measurements = new List<Measurement<long>>();
            foreach (var (client, _) in Clients)
            {
                measurements.AddRange(observe(client));
            }

            return measurements;
        }
    }

    private IEnumerable<Measurement<long>> ObserveOutbox(bool bytes)
    {
        if (_outbox is null)
        {
            return [];
        }

        var (messages, held) = _outbox();
        return [new Measurement<long>(bytes ? held : messages, Common())];
    }
}
