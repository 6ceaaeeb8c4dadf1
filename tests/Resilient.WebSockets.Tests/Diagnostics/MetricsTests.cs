using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Diagnostics;

/// <summary>The meter <c>Resilient.WebSockets</c>: each instrument's name, unit, value and tags through connects, losses,
/// sends, receives and drops, on the in-memory connector and a fake clock (so every duration is exact).</summary>
public sealed class MetricsTests : IDisposable
{
    private const string Prefix = "websocket.client.";
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();
    private readonly MetricRecorder _metrics = new();

    public void Dispose() => _metrics.Dispose();

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null) =>
        TestClients.Create(_connector, _time, o =>
        {
            o.Name = "prices";
            o.MeterFactory = _metrics.Factory;
            configure?.Invoke(o);
        });

    private static void AssertCommonTags(MetricRecorder.Measured measured)
    {
        Assert.Equal("Resilient.WebSockets", measured.Meter);
        Assert.Equal("prices", measured["websocket.client.name"]);
        Assert.Equal("example.test", measured["server.address"]);
        Assert.Equal(80, measured["server.port"]);
        Assert.Equal("ws", measured["url.scheme"]);
    }

    [Fact]
    public async Task ConnectAttempts_AFailureThenASuccess_EachRecordedWithItsErrorTypeAndOneActiveSession()
    {
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(attempt == 1 ? new WebSocketException("refused (test)") : null);
        using var sut = CreateSut();

        var start = sut.StartAsync();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await start.WaitAsync(ClientProbe.DefaultTimeout);

        var attempts = _metrics.Of(Prefix + "connect.duration");
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("s", a.Unit));
        Assert.All(attempts, AssertCommonTags);
        Assert.Equal("System.Net.WebSockets.WebSocketException", attempts[0]["error.type"]);
        Assert.False(attempts[1].Tags.ContainsKey("error.type"));
        var active = Assert.Single(_metrics.Of(Prefix + "active_sessions"));
        Assert.Equal(1, active.Value);
        Assert.Equal("{session}", active.Unit);
        Assert.Empty(_metrics.Of(Prefix + "downtime")); // a first connect has no downtime
    }

    [Fact]
    public async Task SessionLost_ItsDurationCarriesTheReason_AndTheReconnectRecordsTheDowntime()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        _time.Advance(TimeSpan.FromSeconds(5));
        (await _connector.AcceptAsync()).Kill();
        await probe.WaitForDisconnectsAsync(1);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
        await probe.WaitForConnectsAsync(2);

        var session = Assert.Single(_metrics.Of(Prefix + "session.duration"));
        Assert.Equal(5, session.Value);
        Assert.Equal("connection_lost", session["websocket.disconnect.reason"]);
        Assert.False(session.Tags.ContainsKey("websocket.close.code")); // no close frame came
        AssertCommonTags(session);
        Assert.Equal([1, -1, 1], _metrics.Of(Prefix + "active_sessions").Select(m => m.Value));
        var downtime = Assert.Single(_metrics.Of(Prefix + "downtime"));
        Assert.Equal(1, downtime.Value);
        Assert.Equal("s", downtime.Unit);
    }

    [Fact]
    public async Task SessionClosedByTheServer_ItsDurationCarriesTheCloseCode()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);

        var server = await _connector.AcceptAsync();
        await server.Socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "going away (secret detail)", CancellationToken.None);
        await probe.WaitForDisconnectsAsync(1);
        server.Kill();

        var session = Assert.Single(_metrics.Of(Prefix + "session.duration"));
        Assert.Equal("closed_by_server", session["websocket.disconnect.reason"]);
        Assert.Equal(1001, session["websocket.close.code"]);
        Assert.DoesNotContain(session.Tags.Values, v => v is string s && s.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SendsAndReceives_CountedAsMessagesAndBytes_ByMessageType()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await sut.SendAsync("hello").AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        await sut.SendAsync(new byte[] { 1, 2, 3 }).AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        await server.SendTextAsync("abcd");
        await probe.WaitUntilAsync(p => p.Texts.Contains("abcd"), "the server's message");

        Assert.Equal([("text", 1d), ("binary", 1d)], _metrics.Of(Prefix + "sent.messages").Select(m => ((string)m["websocket.message.type"]!, m.Value)));
        Assert.Equal([("text", 5d), ("binary", 3d)], _metrics.Of(Prefix + "sent.bytes").Select(m => ((string)m["websocket.message.type"]!, m.Value)));
        var received = Assert.Single(_metrics.Of(Prefix + "received.messages"));
        Assert.Equal("text", received["websocket.message.type"]);
        Assert.Equal("{message}", received.Unit);
        Assert.Equal(4, Assert.Single(_metrics.Of(Prefix + "received.bytes")).Value);
        Assert.Equal("By", _metrics.Of(Prefix + "sent.bytes")[0].Unit);
        AssertCommonTags(received);
        server.Kill();
    }

    [Fact]
    public async Task Drops_CountedWithDirectionAndReason_AndTheQueueGaugeObservesWhatWaits()
    {
        using var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        Assert.True(sut.TryEnqueue("one"));
        Assert.True(sut.TryEnqueue("two"));
        Assert.True(sut.TryEnqueue("three"));

        _metrics.Observe();
        var queued = Assert.Single(_metrics.Of(Prefix + "send_queue.messages"));
        Assert.Equal(3, queued.Value);
        AssertCommonTags(queued);

        Assert.Equal(3, sut.ClearPendingSends());
        await probe.WaitForDropsAsync(3); // measured as each report reaches the observers, before them

        var drops = _metrics.Of(Prefix + "dropped.messages");
        Assert.Equal(3, drops.Count);
        Assert.All(drops, d =>
        {
            Assert.Equal(1, d.Value);
            Assert.Equal("outgoing", d["websocket.message.direction"]);
            Assert.Equal("cleared", d["websocket.drop.reason"]);
            AssertCommonTags(d);
        });
    }

    [Fact]
    public async Task InvalidJson_SkippedByAJsonSubscription_IsCountedAsAnIncomingDrop()
    {
        using var sut = CreateSut();
        using var quotes = sut.Messages.Json(Json.TestJson.Default.Quote).Subscribe(new Recorder<Json.Quote>(_ => { }));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await server.SendTextAsync("not json");
        await probe.WaitForDropsAsync(1);

        var drop = Assert.Single(_metrics.Of(Prefix + "dropped.messages"));
        Assert.Equal(("incoming", "invalid_json"), (drop["websocket.message.direction"], drop["websocket.drop.reason"]));
        AssertCommonTags(drop);
        server.Kill();
    }

    [Fact]
    public async Task NoInstrument_CarriesThePathQueryUserInfoOrPayload()
    {
        using var sut = CreateSut(o => o.Uri = new Uri("ws://alice:hunter2@example.test/socket/private-path?token=s3cret#frag"));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        await sut.SendAsync("payload-secret").AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        sut.TryEnqueue("queued-secret");
        sut.ClearPendingSends();
        _metrics.Observe();
        server.Kill();
        await probe.WaitForDisconnectsAsync(1);

        Assert.NotEmpty(_metrics.All);
        var values = _metrics.All.SelectMany(m => m.Tags.Values).Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!).ToList();
        foreach (var secret in new[] { "alice", "hunter2", "private-path", "token", "s3cret", "frag", "secret", "/socket" })
        {
            Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task ReliableDelivery_OutboxGauges_AckDurationAndResends_AndRequestDurations()
    {
        static string? Field(WebSocketMessage m, string prefix) =>
            m.MessageType == WebSocketMessageType.Text && m.Text.StartsWith(prefix, StringComparison.Ordinal) ? m.Text[prefix.Length..] : null;
        using var sut = CreateSut(o =>
        {
            o.Delivery = new DeliveryOptions { ReadAck = m => Field(m, "ack:") is { } id ? MessageAck.Accepted(id) : null, AckTimeout = TimeSpan.FromSeconds(2) };
            o.Requests = new RequestOptions { ReadCorrelationId = m => Field(m, "res:"), Timeout = TimeSpan.FromSeconds(3) };
        });
        using var probe = new ClientProbe(sut);
        var accepted = sut.EnqueueReliableAsync("hello", "m1").AsTask();
        await accepted.WaitAsync(ClientProbe.DefaultTimeout);
        _metrics.Observe();
        Assert.Equal(1, Assert.Single(_metrics.Of(Prefix + "outbox.messages")).Value);
        Assert.Equal(5, Assert.Single(_metrics.Of(Prefix + "outbox.bytes")).Value);

        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        Assert.Equal("hello", await server.ReceiveTextAsync());
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(2)); // no ack in time: written again
        Assert.Equal("hello", await server.ReceiveTextAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        await server.SendTextAsync("ack:m1");
        await probe.WaitForAcksAsync(1);

        var ack = Assert.Single(_metrics.Of(Prefix + "ack.duration"));
        Assert.Equal(3, ack.Value);
        AssertCommonTags(ack);
        Assert.Equal(1, Assert.Single(_metrics.Of(Prefix + "resent.messages")).Value);

        var request = sut.RequestAsync("req:r1", "r1").AsTask();
        Assert.Equal("req:r1", await server.ReceiveTextAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        await server.SendTextAsync("res:r1");
        await request.WaitAsync(ClientProbe.DefaultTimeout);
        var unanswered = sut.RequestAsync("req:r2", "r2").AsTask();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<TimeoutException>(() => unanswered.WaitAsync(ClientProbe.DefaultTimeout));

        var requests = _metrics.Of(Prefix + "request.duration");
        Assert.Equal(2, requests.Count);
        Assert.Equal(1, requests[0].Value);
        Assert.False(requests[0].Tags.ContainsKey("error.type"));
        Assert.Equal(3, requests[1].Value);
        Assert.Equal("timeout", requests[1]["error.type"]);
        server.Kill();
    }

#if NET9_0_OR_GREATER
    [Fact]
    public void DurationHistograms_AdviseBucketsInSeconds_NotOpenTelemetrysDefaults()
    {
        var histograms = new Dictionary<string, IReadOnlyList<double>?>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == _metrics.Factory && instrument is System.Diagnostics.Metrics.Histogram<double> histogram)
                {
                    histograms[instrument.Name] = histogram.Advice?.HistogramBucketBoundaries;
                }
            },
        };
        listener.Start();
        using var sut = CreateSut();

        Assert.Equal(
            ["ack.duration", "connect.duration", "downtime", "request.duration", "session.duration"],
            histograms.Keys.Select(k => k[Prefix.Length..]).Order(StringComparer.Ordinal));
        Assert.All(histograms.Values, buckets => Assert.True(buckets is { Count: > 5 } && buckets[0] < 1 && buckets.SequenceEqual(buckets.Order())));
        Assert.Equal(0.005, histograms[Prefix + "connect.duration"]![0]);
        Assert.Equal(86400, histograms[Prefix + "session.duration"]![^1]);
    }
#endif

    [Fact]
    public void EnumTagValues_AreSnakeCase()
    {
        Assert.Equal("keep_alive_timeout", ClientMetrics.SnakeCase<DisconnectReason>.Of(DisconnectReason.KeepAliveTimeout));
        Assert.Equal("queue_full", ClientMetrics.SnakeCase<DropReason>.Of(DropReason.QueueFull));
        Assert.All(Enum.GetValues<DisconnectReason>(), r => Assert.Matches("^[a-z]+(_[a-z0-9]+)*$", ClientMetrics.SnakeCase<DisconnectReason>.Of(r)));
        Assert.All(Enum.GetValues<DropReason>(), r => Assert.Matches("^[a-z]+(_[a-z0-9]+)*$", ClientMetrics.SnakeCase<DropReason>.Of(r)));
    }

    [Fact]
    public async Task WithoutAMeterFactory_TheSharedMeterIsUsed_AndNoListenerMeansNothingRecorded()
    {
        using var sut = TestClients.Create(_connector, _time);
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await sut.SendAsync("x").AsTask().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Empty(_metrics.All); // this client measured on the shared meter, which this recorder does not listen to
        (await _connector.AcceptAsync()).Kill();
    }
}
