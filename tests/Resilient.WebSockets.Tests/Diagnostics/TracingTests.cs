using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Diagnostics;

/// <summary>The activity source <c>Resilient.WebSockets</c>: a span per connect attempt and per session, roots of their
/// own; spans for requests and reliable sends under the caller's. The source is shared by every test running at the
/// same time, so each test keeps only the spans of its own client (by name).</summary>
public sealed class TracingTests : IDisposable
{
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();
    private readonly string _name = "tracing-" + Guid.NewGuid().ToString("N");
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Resilient.WebSockets",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("websocket.client.name") as string == _name)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    private IReadOnlyList<Activity> Spans(string name) => [.. _stopped.Where(a => a.OperationName == name)];

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null) =>
        TestClients.Create(_connector, _time, o =>
        {
            o.Name = _name;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task ConnectAttemptsAndSessions_AreRootSpans_WithOutcomeReasonAndEndpoint_EvenWhenStartedUnderAnAppSpan()
    {
        _connector.Script = (attempt, _) => Task.FromResult<Exception?>(attempt == 1 ? new WebSocketException("refused (test)") : null);
        using var sut = CreateSut(o => o.Uri = new Uri("ws://example.test/socket?token=s3cret"));
        using var probe = new ClientProbe(sut);
        using var appSource = new ActivitySource("TracingTests.App");
        using var appListener = new ActivityListener
        {
            ShouldListenTo = s => s == appSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(appListener);

        using (appSource.StartActivity("app startup"))
        {
            var start = sut.StartAsync();
            await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(1));
            await start.WaitAsync(ClientProbe.DefaultTimeout);
        }

        (await _connector.AcceptAsync()).Kill();
        await probe.WaitForDisconnectsAsync(1);
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(2)); // a short session: the backoff goes on growing
        await probe.WaitForConnectsAsync(2);

        var attempts = Spans("websocket.connect");
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, a => Assert.Null(a.ParentId));
        Assert.All(attempts, a => Assert.Equal(ActivityKind.Client, a.Kind));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal("System.Net.WebSockets.WebSocketException", attempts[0].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);
        Assert.Equal([1, 2, 1], attempts.Select(a => (int)a.GetTagItem("websocket.connect.attempt")!));
        Assert.Equal("example.test", attempts[1].GetTagItem("server.address"));
        Assert.Equal(80, attempts[1].GetTagItem("server.port"));

        var session = Assert.Single(Spans("websocket.session")); // the second is still live
        Assert.Null(session.ParentId);
        Assert.Equal("connection_lost", session.GetTagItem("websocket.disconnect.reason"));
        Assert.Equal(ActivityStatusCode.Error, session.Status);
        Assert.False((bool)session.GetTagItem("websocket.reconnect")!);
        Assert.All(_stopped, span => Assert.All(span.TagObjects, tag => Assert.DoesNotContain("s3cret", Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "", StringComparison.Ordinal)));
        (await _connector.AcceptAsync()).Kill();
    }

    [Fact]
    public async Task StoppedSession_EndsItsSpanWithoutAnError()
    {
        _connector.AnswerCloses = true;
        using var sut = CreateSut();
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();

        await sut.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);

        var session = Assert.Single(Spans("websocket.session"));
        Assert.Equal("stopped", session.GetTagItem("websocket.disconnect.reason"));
        Assert.Equal(ActivityStatusCode.Unset, session.Status);
        server.Kill();
    }

    [Fact]
    public async Task RequestsAndReliableSends_AreSpansUnderTheCallers()
    {
        static string? Field(WebSocketMessage m, string prefix) =>
            m.MessageType == WebSocketMessageType.Text && m.Text.StartsWith(prefix, StringComparison.Ordinal) ? m.Text[prefix.Length..] : null;
        using var sut = CreateSut(o =>
        {
            o.Delivery = new DeliveryOptions { ReadAck = m => Field(m, "ack:") is { } id ? MessageAck.Accepted(id) : null };
            o.Requests = new RequestOptions { ReadCorrelationId = m => Field(m, "res:"), Timeout = TimeSpan.FromSeconds(3) };
        });
        await sut.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        var server = await _connector.AcceptAsync();
        using var caller = new Activity("caller").Start();

        var reliable = sut.SendReliableAsync("hello", "m1").AsTask();
        Assert.Equal("hello", await server.ReceiveTextAsync());
        await server.SendTextAsync("ack:m1");
        await reliable.WaitAsync(ClientProbe.DefaultTimeout);
        var unanswered = sut.RequestAsync("req:r1", "r1").AsTask();
        await _time.AdvanceWhenWaitingAsync(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<TimeoutException>(() => unanswered.WaitAsync(ClientProbe.DefaultTimeout));

        var send = Assert.Single(Spans("websocket.send_reliable"));
        Assert.Equal(caller.Id, send.ParentId);
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal(ActivityStatusCode.Unset, send.Status);
        Assert.DoesNotContain(send.TagObjects, tag => Equals(tag.Value, "m1")); // never a message id
        var request = Assert.Single(Spans("websocket.request"));
        Assert.Equal(caller.Id, request.ParentId);
        Assert.Equal("timeout", request.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, request.Status);
        server.Kill();
    }
}
