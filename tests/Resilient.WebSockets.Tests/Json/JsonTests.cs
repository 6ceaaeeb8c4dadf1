using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Json;

public sealed record Quote(string Symbol, decimal Price);

public sealed record Order(string Id, int Quantity);

public sealed class Node
{
    public Node? Next { get; set; }
}

[JsonSerializable(typeof(Quote))]
[JsonSerializable(typeof(Order))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
public sealed partial class TestJson : JsonSerializerContext;

[JsonSerializable(typeof(Order))]
public sealed partial class OrdersOnlyJson : JsonSerializerContext;

/// <summary>Typed JSON on the in-memory connector: every overload, bad input on a live subscription, binary frames.</summary>
public sealed class JsonTests : IAsyncLifetime, IDisposable
{
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryWebSocketServer _server;
    private readonly CapturingLoggerFactory _logs = new();
    private readonly List<ReconnectingWebSocket> _clients = [];

    public JsonTests() => _server = new InMemoryWebSocketServer(_time);

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _logs.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult(); // after DisposeAsync: nothing more to do
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var client in _clients)
        {
            await client.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        }
    }

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var client = TestClients.Create(_server.Connector, _time, configure, _logs);
        _clients.Add(client);
        return client;
    }

    private async Task<(ReconnectingWebSocket Sut, InMemoryConnection Server)> ConnectedAsync(Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var sut = CreateSut(configure);
        await sut.StartAsync();
        var server = await _server.AcceptAsync(Timeout);
        return (sut, server);
    }

    /// <summary>The exception <paramref name="call"/> throws itself, before it returns a task.</summary>
    private static TException ThrowsAtTheCall<TException>(Func<ValueTask> call)
        where TException : Exception
    {
        Task task;
        try
        {
            task = call().AsTask();
        }
        catch (TException ex)
        {
            return ex;
        }

        throw new Xunit.Sdk.XunitException($"expected {typeof(TException).Name} at the call; got a task instead ({task.Status})");
    }

    private static CancellationToken Timeout => new CancellationTokenSource(ClientProbe.DefaultTimeout).Token;

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(InMemoryConnection server)
    {
        var message = await server.ReceiveAsync(Timeout) ?? throw new InvalidOperationException("the client closed");
        return (message.MessageType, Encoding.UTF8.GetString(message.Data.Span));
    }

    [Fact]
    public async Task SendJsonAsync_EachOverload_SendsTheValueAsOneUtf8TextMessage()
    {
        var (sut, server) = await ConnectedAsync();

        await sut.SendJsonAsync(new Quote("MSFT", 1.5m), TestJson.Default.Quote);
        await sut.SendJsonAsync(new Quote("AAPL", 2m), TestJson.Default);
        await sut.SendJsonAsync(new Quote("Ünïcode €", 3m), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await sut.SendJsonAsync(new Quote("X", 4m));

        Assert.Equal((WebSocketMessageType.Text, """{"symbol":"MSFT","price":1.5}"""), await ReceiveAsync(server));
        Assert.Equal((WebSocketMessageType.Text, """{"symbol":"AAPL","price":2}"""), await ReceiveAsync(server));
        Assert.Equal((WebSocketMessageType.Text, """{"symbol":"\u00DCn\u00EFcode \u20AC","price":3}"""), await ReceiveAsync(server));
        Assert.Equal((WebSocketMessageType.Text, """{"Symbol":"X","Price":4}"""), await ReceiveAsync(server));
    }

    [Fact]
    public async Task SendJsonAsync_HonoursTheWritersOptions_IndentationAndEncoder()
    {
        var (sut, server) = await ConnectedAsync();
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        await sut.SendJsonAsync(new Order("ü", 1), options);

        Assert.Equal("{\n  \"Id\": \"ü\",\n  \"Quantity\": 1\n}", (await ReceiveAsync(server)).Text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task SendJsonAsync_LargeValue_GrowsItsPooledBufferAndSendsItWhole()
    {
        var (sut, server) = await ConnectedAsync();
        string big = new('x', 300_000);

        await sut.SendJsonAsync(new Order(big, 7), TestJson.Default.Order);
        await sut.SendJsonAsync(new Order("small", 8), TestJson.Default.Order); // the thread's writer is reused afterwards

        Assert.Equal($$"""{"id":"{{big}}","quantity":7}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"id":"small","quantity":8}""", (await ReceiveAsync(server)).Text);
    }

    [Fact]
    public async Task TryEnqueueJson_WhileDisconnected_IsWrittenAfterTheConnect()
    {
        var sut = CreateSut();

        Assert.True(sut.TryEnqueueJson(new Order("a", 1), TestJson.Default.Order));
        Assert.True(sut.TryEnqueueJson(new Order("b", 2), TestJson.Default));
        Assert.True(sut.TryEnqueueJson(new Order("c", 3)));
        Assert.Equal(3, sut.PendingSendCount);
        await sut.StartAsync();
        var server = await _server.AcceptAsync(Timeout);

        Assert.Equal("""{"id":"a","quantity":1}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"id":"b","quantity":2}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"Id":"c","Quantity":3}""", (await ReceiveAsync(server)).Text);
    }

    [Fact]
    public async Task SerializationError_ThrowsAtTheCall_AndNothingIsQueued()
    {
        var sut = CreateSut();
        var cycle = new Node();
        cycle.Next = cycle;

        ThrowsAtTheCall<JsonException>(() => sut.SendJsonAsync(cycle));
        Assert.Throws<JsonException>(() => sut.TryEnqueueJson(cycle));
        ThrowsAtTheCall<NotSupportedException>(() => sut.SendJsonAsync(typeof(string)));
        Assert.Equal(0, sut.PendingSendCount);

        // The thread's writer is not left broken: the next send on this thread is whole.
        Assert.True(sut.TryEnqueueJson(new Order("after", 1), TestJson.Default.Order));
        await sut.StartAsync();
        var server = await _server.AcceptAsync(Timeout);
        Assert.Equal("""{"id":"after","quantity":1}""", (await ReceiveAsync(server)).Text);
    }

    [Fact]
    public void ContextLackingTheType_ArgumentExceptionAtTheCall_NamingTheFix()
    {
        var sut = CreateSut();

        var missing = ThrowsAtTheCall<ArgumentException>(() => sut.SendJsonAsync(new Quote("x", 1), OrdersOnlyJson.Default));

        Assert.Equal("context", missing.ParamName);
        Assert.StartsWith("The JsonSerializerContext OrdersOnlyJson has no metadata for Quote: add [JsonSerializable(typeof(Quote))] to it, or pass a JsonTypeInfo<Quote>.", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => sut.Messages.Json<Quote>(OrdersOnlyJson.Default));
        Assert.Throws<ArgumentException>(() => WebSocketMessage.FromText("{}").ReadJson<Quote>(OrdersOnlyJson.Default));
        Assert.Equal(0, sut.PendingSendCount);
    }

    [Fact]
    public void NullArguments_ThrowAtTheCall()
    {
        var sut = CreateSut();

        ThrowsAtTheCall<ArgumentNullException>(() => sut.SendJsonAsync(new Quote("x", 1), (System.Text.Json.Serialization.Metadata.JsonTypeInfo<Quote>)null!));
        Assert.Throws<ArgumentNullException>(() => sut.Messages.Json((System.Text.Json.Serialization.Metadata.JsonTypeInfo<Quote>)null!));
        Assert.Throws<ArgumentNullException>(() => ((IObservable<WebSocketMessage>)null!).Json(TestJson.Default.Quote));
        ThrowsAtTheCall<ArgumentNullException>(() => sut.SendReliableJsonAsync(new Quote("x", 1), (string)null!, TestJson.Default.Quote));
    }

    [Fact]
    public async Task Json_BadMessagesOnALiveSubscription_AreSkippedReportedAndLogged_AndTheSubscriptionLivesOn()
    {
        var (sut, server) = await ConnectedAsync();
        var quotes = new List<Quote>();
        bool completed = false;
        using var subscription = sut.Messages.Json(TestJson.Default.Quote).Subscribe(new Recorder<Quote>(q => { lock (quotes) { quotes.Add(q); } }, onCompleted: () => completed = true));
        // The probe subscribes after the Json subscription, so a message reaches the latter first.
        using var probe = new ClientProbe(sut);

        await server.SendAsync("""{"symbol":"A","price":1}""");
        await server.SendAsync("not json");
        await server.SendAsync("""{"symbol":"B","price":"secret-ish"}""");
        await server.SendAsync("null");
        await server.SendAsync("""{"symbol":"C","price":3}""");
        await probe.WaitForMessagesAsync(5);
        await probe.WaitForDropsAsync(3);

        lock (quotes)
        {
            Assert.Equal([new Quote("A", 1), new Quote("C", 3)], quotes);
        }

        Assert.False(completed);
        Assert.All(probe.Drops, d => Assert.Equal((MessageDirection.Incoming, WebSocketMessageType.Text, DropReason.InvalidJson), (d.Direction, d.MessageType, d.Reason)));
        Assert.Equal([8, 35, 4], probe.Drops.Select(d => d.Length));
        Assert.Equal("not JSON for Quote: at $, line 1, byte 2", probe.Drops[0].Detail);
        Assert.Equal("not JSON for Quote: at $.price, line 1, byte 35", probe.Drops[1].Detail);
        Assert.Equal("Incoming text message of 4 bytes dropped: it was not valid JSON for the type a Json<T> subscription reads; that subscription skipped it (not JSON for Quote: at $, line 1, byte 1)", probe.Drops[2].ToString());

        var warnings = _logs.Lines.Where(l => l.EventId.Id == 305).ToList();
        Assert.Equal(3, warnings.Count);
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Equal("example.test: a Text message of 35 bytes is not JSON for Quote (at $.price, line 1, byte 35); the Json<Quote> subscription skipped it and lives on. It is reported on Dropped (InvalidJson); give Json<T> an onError to handle such messages yourself.", warnings[1].Message);
        Assert.DoesNotContain(_logs.Lines, l => l.Message.Contains("secret-ish", StringComparison.Ordinal) || l.Message.Contains("not json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_WithOnError_HandsItTheMessageAndTheException_AndReportsNothing()
    {
        var (sut, server) = await ConnectedAsync();
        var errors = new List<JsonMessageError>();
        var quotes = new List<Quote>();
        using var subscription = sut.Messages.Json<Quote>(TestJson.Default, onError: (JsonMessageError e) => { lock (errors) { errors.Add(e); } })
            .Subscribe(new Recorder<Quote>(q => { lock (quotes) { quotes.Add(q); } }));
        // The probe subscribes after the Json subscription, so a message reaches the latter first.
        using var probe = new ClientProbe(sut);

        await server.SendAsync("{oops");
        await server.SendAsync("""{"symbol":"A","price":1}""");
        await probe.WaitForMessagesAsync(2);

        lock (errors)
        {
            var error = Assert.Single(errors);
            Assert.Equal("{oops", error.Message.Text);
            Assert.Equal("$", error.Exception.Path);
        }

        Assert.Equal([new Quote("A", 1)], quotes);
        Assert.Empty(probe.Drops);
        Assert.DoesNotContain(_logs.Lines, l => l.EventId.Id == 305);
    }

    [Fact]
    public async Task Json_AfterOtherOperators_StillReportsToTheClientThatDeliversTheMessage()
    {
        var (sut, server) = await ConnectedAsync();
        var quotes = new List<Quote>();
        using var subscription = new WhereText(sut.Messages).Json(TestJson.Default.Quote).Subscribe(new Recorder<Quote>(q => { lock (quotes) { quotes.Add(q); } }));
        // The probe subscribes after the Json subscription, so a message reaches the latter first.
        using var probe = new ClientProbe(sut);

        await server.SendAsync("[1,2]");
        await server.SendAsync("""{"symbol":"A","price":1}""");
        await probe.WaitForDropsAsync(1);
        await probe.WaitForMessagesAsync(2);

        Assert.Equal(DropReason.InvalidJson, Assert.Single(probe.Drops).Reason);
        Assert.Equal([new Quote("A", 1)], quotes);
    }

    [Fact]
    public async Task Json_BinaryFrames_AreParsedFromTheirBytes_AndInvalidUtf8IsSkipped()
    {
        var (sut, server) = await ConnectedAsync();
        var quotes = new List<Quote>();
        using var subscription = sut.Messages.Json<Quote>(new JsonSerializerOptions(JsonSerializerDefaults.Web)).Subscribe(new Recorder<Quote>(q => { lock (quotes) { quotes.Add(q); } }));
        // The probe subscribes after the Json subscription, so a message reaches the latter first.
        using var probe = new ClientProbe(sut);

        await server.SendAsync(Encoding.UTF8.GetBytes("""{"symbol":"Ü","price":2}"""), WebSocketMessageType.Binary);
        await server.SendAsync(new byte[] { (byte)'"', 0xC3, 0x28, (byte)'"' }, WebSocketMessageType.Binary);
        await server.SendAsync(Encoding.UTF8.GetBytes("""{"symbol":"B","price":3}"""), WebSocketMessageType.Binary);
        await probe.WaitForMessagesAsync(3);
        await probe.WaitForDropsAsync(1);

        Assert.Equal([new Quote("Ü", 2), new Quote("B", 3)], quotes);
        Assert.Equal((WebSocketMessageType.Binary, DropReason.InvalidJson, 4), (probe.Drops[0].MessageType, probe.Drops[0].Reason, probe.Drops[0].Length));
    }

    [Fact]
    public void ReadJson_FromTextAndBinary_EachOverload()
    {
        var text = WebSocketMessage.FromText("""{"symbol":"A","price":1.25}""");
        var binary = WebSocketMessage.FromBinary("""{"Symbol":"B","Price":2}"""u8);

        Assert.Equal(new Quote("A", 1.25m), text.ReadJson(TestJson.Default.Quote));
        Assert.Equal(new Quote("A", 1.25m), text.ReadJson<Quote>(TestJson.Default));
        _ = text.Data; // a text message whose bytes were read parses from those bytes
        Assert.Equal(new Quote("A", 1.25m), text.ReadJson(TestJson.Default.Quote));
        Assert.Equal(new Quote("B", 2m), binary.ReadJson<Quote>());
        Assert.Null(WebSocketMessage.FromText("null").ReadJson(TestJson.Default.Quote));
        var bad = Assert.Throws<JsonException>(() => WebSocketMessage.FromText("""{"symbol":1}""").ReadJson(TestJson.Default.Quote));
        Assert.Equal("$.symbol", bad.Path);
        Assert.Equal(WebSocketMessageType.Binary, binary.MessageType);
        Assert.Throws<ArgumentNullException>(() => WebSocketMessage.FromText(null!));
    }

    [Fact]
    public void Json_OnAStreamOfTheAppsOwn_WithoutOnError_SkipsBadInputWithoutEndingTheSubscription()
    {
        var source = new ManualStream();
        var quotes = new List<Quote>();
        using var subscription = source.Json(TestJson.Default.Quote).Subscribe(new Recorder<Quote>(quotes.Add)); // OnError would throw

        source.Push(WebSocketMessage.FromText("garbage"));
        source.Push(WebSocketMessage.FromText("""{"symbol":"A","price":1}"""));

        Assert.Equal([new Quote("A", 1)], quotes);
    }

    [Fact]
    public async Task ConnectedContext_SendJsonAsync_GoesFirst_OnEverySession()
    {
        var (_, server) = await ConnectedAsync(o => o.OnConnected = async (session, ct) =>
        {
            await session.SendJsonAsync(new Order("hello", 1), TestJson.Default.Order, ct);
            await session.SendJsonAsync(new Order("again", 2), TestJson.Default, ct);
            await session.SendJsonAsync(new Order("third", 3), cancellationToken: ct);
        });

        Assert.Equal("""{"id":"hello","quantity":1}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"id":"again","quantity":2}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"Id":"third","Quantity":3}""", (await ReceiveAsync(server)).Text);
    }

    [Fact]
    public async Task SendReliableJsonAsync_CompletesOnItsAck_EachOverload()
    {
        var (sut, server) = await ConnectedAsync(o => o.Delivery = new DeliveryOptions
        {
            ReadAck = m => m.Text.StartsWith("ack:", StringComparison.Ordinal) ? MessageAck.Accepted(m.Text[4..]) : null,
        });

        var first = sut.SendReliableJsonAsync(new Order("o1", 1), "o1", TestJson.Default.Order).AsTask();
        var second = sut.SendReliableJsonAsync(new Order("o2", 2), "o2", TestJson.Default).AsTask();
        var third = sut.SendReliableJsonAsync(new Order("o3", 3), "o3").AsTask();
        Assert.Equal("""{"id":"o1","quantity":1}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"id":"o2","quantity":2}""", (await ReceiveAsync(server)).Text);
        Assert.Equal("""{"Id":"o3","Quantity":3}""", (await ReceiveAsync(server)).Text);
        Assert.False(first.IsCompleted);
        await server.SendAsync("ack:o1");
        await server.SendAsync("ack:o2");
        await server.SendAsync("ack:o3");

        await Task.WhenAll(first, second, third).WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(0, sut.OutboxCount);
    }

    [Fact]
    public async Task RequestJsonAsync_ParsesItsResponse_AndABadResponseFaultsTheTask()
    {
        var (sut, server) = await ConnectedAsync(o => o.Requests = new RequestOptions
        {
            ReadCorrelationId = m => m.Text.StartsWith("{\"id\":", StringComparison.Ordinal) ? JsonDocument.Parse(m.Text).RootElement.GetProperty("id").GetString() : null,
            Timeout = TimeSpan.FromSeconds(5),
        });

        var quote = sut.RequestJsonAsync<Order, Quote>(new Order("r1", 5), "r1", TestJson.Default).AsTask();
        Assert.Equal("""{"id":"r1","quantity":5}""", (await ReceiveAsync(server)).Text);
        await server.SendAsync("""{"id":"r1","symbol":"MSFT","price":9.5}""");
        Assert.Equal(new Quote("MSFT", 9.5m), await quote.WaitAsync(ClientProbe.DefaultTimeout));

        var reflected = sut.RequestJsonAsync<Order, Quote>(new Order("r0", 2), "r0", new JsonSerializerOptions(JsonSerializerDefaults.Web)).AsTask();
        Assert.Equal("""{"id":"r0","quantity":2}""", (await ReceiveAsync(server)).Text);
        await server.SendAsync("""{"id":"r0","symbol":"WEB","price":2}""");
        Assert.Equal(new Quote("WEB", 2m), await reflected.WaitAsync(ClientProbe.DefaultTimeout));

        var typed = sut.RequestJsonAsync(new Order("r2", 1), "r2", TestJson.Default.Order, TestJson.Default.Quote).AsTask();
        await ReceiveAsync(server);
        await server.SendAsync("""{"id":"r2","symbol":"X","price":"not a number"}""");
        var bad = await Assert.ThrowsAsync<JsonException>(() => typed.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal("$.price", bad.Path);
    }

    [Fact]
    public async Task WithTheEnvelope_JsonIsTheBody_OfPlainReliableAndRequestFrames()
    {
        var (sut, server) = await ConnectedAsync(o => o.Envelope = new EnvelopeOptions { ClientId = "c1" });
        Assert.Equal(EnvelopeType.Hello, EnvelopeReader.Read(Encoding.UTF8.GetBytes((await ReceiveAsync(server)).Text))!.Type);

        await sut.SendJsonAsync(new Order("plain", 1), TestJson.Default.Order);
        var reliable = sut.SendReliableJsonAsync(new Order("rel", 2), TestJson.Default.Order).AsTask();
        var request = sut.RequestJsonAsync(new Order("req", 3), TestJson.Default.Order, TestJson.Default.Quote).AsTask();

        // The outbox and the send queue share the socket, not an order: tell the three frames apart by what they carry.
        var frames = new List<EnvelopeFrame>();
        for (int i = 0; i < 3; i++)
        {
            frames.Add(EnvelopeReader.Read(Encoding.UTF8.GetBytes((await ReceiveAsync(server)).Text))!);
        }

        var plain = Assert.Single(frames, f => f.Type == EnvelopeType.Message && !f.AckRequested);
        var message = Assert.Single(frames, f => f.Type == EnvelopeType.Message && f.AckRequested);
        var asked = Assert.Single(frames, f => f.Type == EnvelopeType.Request);
        Assert.Equal("""{"id":"plain","quantity":1}""", plain.Body);
        Assert.Equal("""{"id":"rel","quantity":2}""", message.Body);
        Assert.Equal("""{"id":"req","quantity":3}""", asked.Body);

        await server.SendAsync(EnvelopeWriter.Ack(message.Id!), WebSocketMessageType.Text);
        await server.SendAsync(EnvelopeWriter.Response(asked.Id!, """{"symbol":"Q","price":1}"""), WebSocketMessageType.Text);
        await reliable.WaitAsync(ClientProbe.DefaultTimeout);
        Assert.Equal(new Quote("Q", 1), await request.WaitAsync(ClientProbe.DefaultTimeout));

        // The context overloads, numbered by the envelope too.
        var reliableByContext = sut.SendReliableJsonAsync(new Order("rel2", 4), TestJson.Default).AsTask();
        var message2 = EnvelopeReader.Read(Encoding.UTF8.GetBytes((await ReceiveAsync(server)).Text))!;
        Assert.Equal((EnvelopeType.Message, true, """{"id":"rel2","quantity":4}"""), (message2.Type, message2.AckRequested, message2.Body));
        await server.SendAsync(EnvelopeWriter.Ack(message2.Id!), WebSocketMessageType.Text);
        await reliableByContext.WaitAsync(ClientProbe.DefaultTimeout);
        var requestByContext = sut.RequestJsonAsync<Order, Quote>(new Order("req2", 5), TestJson.Default).AsTask();
        var asked2 = EnvelopeReader.Read(Encoding.UTF8.GetBytes((await ReceiveAsync(server)).Text))!;
        Assert.Equal((EnvelopeType.Request, """{"id":"req2","quantity":5}"""), (asked2.Type, asked2.Body));
        await server.SendAsync(EnvelopeWriter.Response(asked2.Id!, """{"symbol":"R","price":5}"""), WebSocketMessageType.Text);
        Assert.Equal(new Quote("R", 5), await requestByContext.WaitAsync(ClientProbe.DefaultTimeout));
    }

    /// <summary>A stand-in for Rx's Where (the tests do not reference System.Reactive): text messages only.</summary>
    private sealed class WhereText(IObservable<WebSocketMessage> source) : IObservable<WebSocketMessage>
    {
        public IDisposable Subscribe(IObserver<WebSocketMessage> observer) =>
            source.Subscribe(new Recorder<WebSocketMessage>(m =>
            {
                if (m.MessageType == WebSocketMessageType.Text)
                {
                    observer.OnNext(m);
                }
            }));
    }

    private sealed class ManualStream : IObservable<WebSocketMessage>
    {
        private IObserver<WebSocketMessage>? _observer;

        public void Push(WebSocketMessage message) => _observer!.OnNext(message);

        public IDisposable Subscribe(IObserver<WebSocketMessage> observer)
        {
            _observer = observer;
            return new CancellationTokenSource();
        }
    }
}
