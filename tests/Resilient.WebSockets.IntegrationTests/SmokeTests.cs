using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

public class SmokeTests
{
    [Fact]
    public async Task Echo_RoundTrip()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(server.Url("/echo"));
        using var probe = new ClientProbe(client);
        await client.StartAsync();
        await client.SendAsync("hello");
        await probe.WaitForMessagesAsync(1);
        Assert.Equal("hello", probe.Texts[0]);
    }
}
