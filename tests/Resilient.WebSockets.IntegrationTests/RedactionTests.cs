using System.Net.WebSockets;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>Secrets in the URI's query, its user info or a header never reach a log line, an exception message or a ToString().</summary>
public class RedactionTests
{
    private const string Secret = "SECRET";

    [Fact]
    public async Task ConnectFailedConnectAndDrop_NoSecretInLogsExceptionsOrToString()
    {
        await using var server = await TestServer.StartAsync();
        using var loggerFactory = new CapturingLoggerFactory();
        int attempt = 0;
        var options = new ReconnectingWebSocketOptions
        {
            // 1: connects and is aborted by the server; 2: refused with 500; 3: connects again.
            UriFactory = _ => ValueTask.FromResult(server.Url(++attempt == 2 ? $"/status/500?token={Secret}" : $"/abort?after=1&token={Secret}")),
            ConfigureWebSocket = o => o.SetRequestHeader("Authorization", $"Bearer {Secret}-bearer"),
            Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10) },
        };
        var client = new ReconnectingWebSocket(options, loggerFactory);
        using var probe = new ClientProbe(client);

        await client.StartAsync();
        await client.SendAsync("trigger the abort");
        await probe.WaitForConnectsAsync(2);
        await client.DisposeAsync();

        var texts = loggerFactory.Lines.Select(line => line.ToString()).ToList();
        texts.AddRange(probe.States.Select(s => s.ToString()));
        texts.AddRange(probe.Connects.Select(c => c.ToString()));
        texts.AddRange(probe.Disconnects.Select(d => d.ToString()));
        texts.AddRange(probe.Drops.Select(d => d.ToString()));
        foreach (var error in probe.States.Select(s => s.Exception).Concat(probe.Disconnects.Select(d => d.Exception)))
        {
            for (var e = error; e is not null; e = e.InnerException)
            {
                texts.Add(e.Message);
                texts.Add(e.ToString());
            }
        }

        Assert.Contains(probe.States, s => s.Exception is WebSocketHandshakeException); // the refused attempt was seen
        Assert.Contains(probe.Disconnects, d => d.Reason == DisconnectReason.ConnectionLost); // and the drop
        Assert.Contains(texts, t => t.Contains("/abort", StringComparison.Ordinal)); // endpoints are logged, redacted
        Assert.All(texts, t => Assert.DoesNotContain(Secret, t, StringComparison.Ordinal));
    }

    [Fact]
    public void UriFactoryReturnsAnInvalidUri_TheMessageCarriesNoQueryOrUserInfo()
    {
        Assert.Equal("ws://host/path", Internal.Redaction.Uri($"ws://user:{Secret}@host/path?token={Secret}#{Secret}"));
        Assert.Equal("/relative", Internal.Redaction.Uri($"/relative?token={Secret}"));
    }
}
