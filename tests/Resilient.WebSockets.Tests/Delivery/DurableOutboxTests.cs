using Resilient.WebSockets.Tests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Delivery;

/// <summary>The client with a <see cref="FileOutboxStore"/>: what one client accepted and the server never acknowledged
/// is written by the next client on the same directory, after its <c>OnConnected</c>; acknowledged ones are not.</summary>
public sealed class DurableOutboxTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rws-durable-" + Guid.NewGuid().ToString("N"));
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

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private ReconnectingWebSocket CreateClient()
    {
        var client = TestClients.Create(_connector, _time, o =>
        {
            o.OnConnected = (context, token) => context.SendAsync("auth", token);
            o.Delivery = new DeliveryOptions
            {
                ReadAck = m => m.Text.StartsWith("ack:", StringComparison.Ordinal) ? MessageAck.Accepted(m.Text[4..]) : null,
                Store = new FileOutboxStore(new FileOutboxStoreOptions { Directory = _directory }),
            };
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

    private static async Task StopAsync(ReconnectingWebSocket client, ServerEnd server)
    {
        server.Kill();
        await client.DisposeAsync().AsTask().WaitAsync(ClientProbe.DefaultTimeout);
    }

    [Fact]
    public async Task NextClientOnTheDirectory_WritesWhatWasNotAcknowledged_AfterOnConnected_AndOnlyOnce()
    {
        var first = CreateClient();
        await first.EnqueueReliableAsync("m1|one", "m1");
        await first.EnqueueReliableAsync("m2|two", "m2");
        await first.StartAsync();
        var server = await AcceptAsync();
        Assert.Equal("auth", await server.ReceiveTextAsync());
        Assert.Equal("m1|one", await server.ReceiveTextAsync());
        Assert.Equal("m2|two", await server.ReceiveTextAsync());
        var third = first.SendReliableAsync("m3|three", "m3").AsTask();
        Assert.Equal("m3|three", await server.ReceiveTextAsync());
        using (var probe = new ClientProbe(first))
        {
            await server.SendTextAsync("ack:m1");
            await probe.WaitForAcksAsync(1);
        }

        await StopAsync(first, server); // m2 and m3 were never acknowledged
        await Assert.ThrowsAsync<ObjectDisposedException>(() => third.WaitAsync(ClientProbe.DefaultTimeout));

        var second = CreateClient();
        using var secondProbe = new ClientProbe(second);
        await second.StartAsync();
        Assert.Equal(2, second.OutboxCount);
        server = await AcceptAsync();
        Assert.Equal("auth", await server.ReceiveTextAsync());
        Assert.Equal("m2|two", await server.ReceiveTextAsync());
        Assert.Equal("m3|three", await server.ReceiveTextAsync());
        await server.SendTextAsync("ack:m2");
        await server.SendTextAsync("ack:m3");
        await secondProbe.WaitForAcksAsync(2);
        await StopAsync(second, server);

        var last = CreateClient();
        await last.StartAsync();
        Assert.Equal(0, last.OutboxCount);
        server = await AcceptAsync();
        await last.SendAsync("plain");
        Assert.Equal("auth", await server.ReceiveTextAsync());
        Assert.Equal("plain", await server.ReceiveTextAsync());
    }

    [Fact]
    public async Task SecondClientOnTheSameDirectory_StartFailsWithTheStoresIOException()
    {
        var first = CreateClient();
        await first.StartAsync();
        _ = await AcceptAsync();
        var second = CreateClient();

        var error = await Assert.ThrowsAsync<IOException>(() => second.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.Contains("is in use by another client", error.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionState.Stopped, second.State);
        Assert.Equal(1, _connector.Attempts); // the second never tried to connect
    }
}
