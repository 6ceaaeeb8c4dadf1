using System.Text;
using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Delivery;

/// <summary>The envelope end to end on the in-memory connector: the test's server speaks it with the public
/// <see cref="EnvelopeReader"/> and <see cref="EnvelopeWriter"/>, as a .NET server would.</summary>
public sealed class EnvelopeTests : IAsyncLifetime
{
    private readonly TestTimeProvider _time = new();
    private readonly InMemoryConnector _connector = new();
    private readonly List<ReconnectingWebSocket> _clients = [];
    private readonly List<ServerEnd> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            server.Kill();
        }

        foreach (var client in _clients)
        {
            await client.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);
        }
    }

    private ReconnectingWebSocket CreateSut(Action<ReconnectingWebSocketOptions>? configure = null)
    {
        var client = TestClients.Create(_connector, _time, o =>
        {
            o.Envelope = new EnvelopeOptions { ClientId = "client-1" };
            configure?.Invoke(o);
        });
        _clients.Add(client);
        return client;
    }

    private async Task<ServerEnd> AcceptAsync()
    {
        var server = await _connector.AcceptAsync();
        _servers.Add(server);
        return server;
    }

    private static async Task<EnvelopeFrame> ReadFrameAsync(ServerEnd server)
    {
        var message = await server.ReceiveAsync() ?? throw new InvalidOperationException("closed");
        return EnvelopeReader.Read(message.Data) ?? throw new InvalidOperationException($"not an envelope: {Encoding.UTF8.GetString(message.Data)}");
    }

    private static Task SendAsync(ServerEnd server, byte[] frame) =>
        server.Socket.SendAsync(frame, System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);

    [Fact]
    public async Task EverySession_BeginsWithHello_ThenOnConnected_AndReliableSendsAreNumberedAndAcknowledged()
    {
        var sut = CreateSut(o => o.OnConnected = (context, token) => context.SendAsync("subscribe", token));
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();

        var hello = await ReadFrameAsync(server);
        Assert.Equal((EnvelopeType.Hello, "client-1"), (hello.Type, hello.ClientId));
        Assert.Equal("subscribe", await server.ReceiveTextAsync()); // the hook's own sends go as they are
        var send = sut.SendReliableAsync("order 7").AsTask();
        var message = await ReadFrameAsync(server);
        Assert.Equal((EnvelopeType.Message, true, "order 7"), (message.Type, message.AckRequested, message.Body));
        Assert.Equal(hello.Next!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), message.Id);
        await SendAsync(server, EnvelopeWriter.Ack(message.Id!));

        await send.WaitAsync(ClientProbe.DefaultTimeout);
        await probe.WaitForAcksAsync(1);
        Assert.Equal(message.Id, probe.Acks[0].MessageId);
        Assert.Empty(probe.Messages); // the ack is consumed
    }

    [Fact]
    public async Task Nack_FailsTheSendWithTheServersError()
    {
        var sut = CreateSut();
        await sut.StartAsync();
        var server = await AcceptAsync();
        await ReadFrameAsync(server); // hello

        var send = sut.SendReliableAsync("order 8").AsTask();
        var message = await ReadFrameAsync(server);
        await SendAsync(server, EnvelopeWriter.Nack(message.Id!, "out of stock"));

        var dropped = await Assert.ThrowsAsync<MessageDroppedException>(() => send.WaitAsync(ClientProbe.DefaultTimeout));
        Assert.Equal((DropReason.Rejected, "out of stock"), (dropped.Reason, dropped.Detail));
    }

    [Fact]
    public async Task ServersReliableMessage_IsAcknowledgedEveryTime_PublishedOnceAsItsBody()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();
        await ReadFrameAsync(server);

        await SendAsync(server, EnvelopeWriter.Message("price 10", "s9", ack: true));
        await SendAsync(server, EnvelopeWriter.Message("price 10", "s9", ack: true)); // resent: our first ack was "lost"
        await SendAsync(server, EnvelopeWriter.Message("plain push"));

        var first = await ReadFrameAsync(server);
        var second = await ReadFrameAsync(server);
        Assert.Equal((EnvelopeType.Ack, "s9"), (first.Type, first.Id));
        Assert.Equal((EnvelopeType.Ack, "s9"), (second.Type, second.Id));
        await probe.WaitForMessagesAsync(2);
        Assert.Equal(["price 10", "plain push"], probe.Texts);
        await probe.WaitForDropsAsync(1);
        Assert.Equal((DropReason.Duplicate, "s9"), (probe.Drops[0].Reason, probe.Drops[0].MessageId));
    }

    [Fact]
    public async Task Request_GetsTheBodyOfItsResponse_AndTextSendsGoAsPlainMessages()
    {
        var sut = CreateSut();
        using var probe = new ClientProbe(sut);
        await sut.StartAsync();
        var server = await AcceptAsync();
        await ReadFrameAsync(server);

        var request = sut.RequestAsync("price?").AsTask();
        var frame = await ReadFrameAsync(server);
        Assert.Equal((EnvelopeType.Request, "price?"), (frame.Type, frame.Body));
        await SendAsync(server, EnvelopeWriter.Response(frame.Id!, "42"));
        Assert.Equal("42", (await request.WaitAsync(ClientProbe.DefaultTimeout)).Text);

        await sut.SendAsync("chat line");
        var chat = await ReadFrameAsync(server);
        Assert.Equal((EnvelopeType.Message, null, false, "chat line"), (chat.Type, chat.Id, chat.AckRequested, chat.Body));
        Assert.Empty(probe.Messages);
    }

    [Fact]
    public async Task Numbers_OnlyGrow_AcrossClients()
    {
        var first = CreateSut();
        await first.EnqueueReliableAsync("a");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var second = CreateSut();
        await second.EnqueueReliableAsync("b");
        await first.StartAsync();
        var one = await AcceptAsync();
        await second.StartAsync();
        var two = await AcceptAsync();

        var hello = await ReadFrameAsync(one);
        long a = long.Parse((await ReadFrameAsync(one)).Id!, System.Globalization.CultureInfo.InvariantCulture);
        await ReadFrameAsync(two);
        long b = long.Parse((await ReadFrameAsync(two)).Id!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(b > a, $"{b} should come after {a}");
        Assert.True(hello.Next > a);
    }

    [Fact]
    public void Options_EnvelopeWithAStoreNeedsAClientId_AndReadersMustBeLeftToIt()
    {
        var options = new ReconnectingWebSocketOptions
        {
            Uri = new Uri("ws://example.test/"),
            Envelope = new EnvelopeOptions(),
            Delivery = new DeliveryOptions { Store = new FileOutboxStore(new FileOutboxStoreOptions { Directory = Path.GetTempPath() }) },
        };
        var noId = Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(options));
        Assert.Equal("options.Envelope.ClientId", noId.ParamName);

        options.Delivery = new DeliveryOptions { ReadAck = _ => null };
        var reader = Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(options));
        Assert.Equal("options.Delivery.ReadAck must be null with options.Envelope: the envelope reads its own frames. (Parameter 'options.Delivery.ReadAck')", reader.Message);

        var plain = new ReconnectingWebSocket(new Uri("ws://example.test/"));
        Assert.Throws<InvalidOperationException>(() => { _ = plain.SendReliableAsync("x").AsTask(); });
        plain.Dispose();
    }

    [Fact]
    public void ReaderAndWriter_RoundTrip_AndAnythingElseIsNotAFrame()
    {
        var ack = EnvelopeReader.Read(EnvelopeWriter.Ack("42"))!;
        Assert.Equal("{\"t\":\"ack\",\"id\":42}", Encoding.UTF8.GetString(EnvelopeWriter.Ack("42")));
        Assert.Equal((EnvelopeType.Ack, "42"), (ack.Type, ack.Id));
        Assert.Equal("{\"t\":\"ack\",\"id\":\"s9\"}", Encoding.UTF8.GetString(EnvelopeWriter.Ack("s9")));
        var message = EnvelopeReader.Read(EnvelopeWriter.Message("a \"quoted\" body", "7", ack: true))!;
        Assert.Equal((EnvelopeType.Message, "7", true, "a \"quoted\" body"), (message.Type, message.Id, message.AckRequested, message.Body));
        Assert.Equal("msg 7 (ack requested), body of 15 characters", message.ToString());
        var nack = EnvelopeReader.Read(EnvelopeWriter.Nack("7", "no"))!;
        Assert.Equal((EnvelopeType.Nack, "no"), (nack.Type, nack.Error));

        foreach (var other in new[] { "", "hello", "[1,2]", "{\"t\":\"unknown\"}", "{\"t\":\"ack\"}", "{\"t\":", "{\"x\":1}" })
        {
            Assert.Null(EnvelopeReader.Read(Encoding.UTF8.GetBytes(other)));
        }
    }
}
