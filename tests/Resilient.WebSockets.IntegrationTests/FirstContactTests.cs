using System.Net;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>Failures a new user meets first, against a real Kestrel server and the default connector.</summary>
public class FirstContactTests
{
    [Fact]
    public async Task SelfSignedCertificate_IsRefusedOnTheFirstAttempt_WithTheCauseOnTop()
    {
        using var certificate = TestCertificate.SelfSigned();
        await using var server = await TestServer.StartAsync(certificate: certificate);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = server.Url("/echo?token=SECRET") });
        using var probe = new ClientProbe(client);

        var error = await Assert.ThrowsAsync<AuthenticationException>(() => client.StartAsync().WaitAsync(ClientProbe.DefaultTimeout));

        Assert.StartsWith($"The server certificate of wss://127.0.0.1:{server.Port}/echo was refused: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Not retried", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
        await probe.WaitForStateAsync(ConnectionState.Stopped);
        Assert.Single(probe.States, s => s.Current == ConnectionState.Connecting);
        var failed = Assert.Single(probe.States, s => s.Current == ConnectionState.Reconnecting);
        Assert.Equal(DisconnectReason.ConnectFailed, failed.Reason);
        Assert.Null(failed.NextAttemptIn);
    }

    [Fact]
    public async Task SelfSignedCertificate_PinnedByThumbprint_Connects()
    {
        using var certificate = TestCertificate.SelfSigned();
        string pinned = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        await using var server = await TestServer.StartAsync(certificate: certificate);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/echo"),
            ConfigureWebSocket = o => o.RemoteCertificateValidationCallback = (_, cert, _, _) =>
                cert is not null && string.Equals(cert.GetCertHashString(HashAlgorithmName.SHA256), pinned, StringComparison.OrdinalIgnoreCase),
        });
        using var probe = new ClientProbe(client);

        await client.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await client.SendAsync("over tls");

        await probe.WaitUntilAsync(p => p.Texts.Contains("over tls"), "the echo over TLS");
    }

    [Fact]
    public async Task Handshake503WithRetryAfter_TheNextAttemptWaitsWhatTheServerAsked()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            Uri = server.Url("/status/503?retryAfter=7"),
            Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromSeconds(30) },
        });
        using var probe = new ClientProbe(client);

        var start = client.StartAsync();
        await probe.WaitForStateAsync(ConnectionState.Reconnecting);

        var failed = Assert.Single(probe.States, s => s.Current == ConnectionState.Reconnecting);
        var refused = Assert.IsType<WebSocketHandshakeException>(failed.Exception);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.HttpStatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(7), failed.NextAttemptIn);
        await client.StopAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
    }
}
