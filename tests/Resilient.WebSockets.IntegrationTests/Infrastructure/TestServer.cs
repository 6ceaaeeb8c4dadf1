using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Resilient.WebSockets.IntegrationTests.Infrastructure;

/// <summary>
/// A real Kestrel WebSocket server on 127.0.0.1, for one test. Endpoints:
/// /echo (echoes every message), /push?n=N&amp;size=S (sends N numbered text messages, then waits for the close),
/// /abort?after=N (echoes N messages, then aborts the TCP connection), /close?status=C&amp;reason=R (closes at once),
/// /status/{code}?retryAfter=S (answers the handshake with that HTTP status, and a Retry-After header if asked), /big?size=S (sends one message of S bytes),
/// /client-certificate (sends the SHA-256 thumbprint of the client's TLS certificate, or "none", then echoes).
/// Every endpoint accepts the first sub-protocol the client offers, and permessage-deflate when the client asks for it.
/// Everything it receives and every close frame it sees is recorded.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<HttpContext, bool> _open;

    private TestServer(WebApplication app, ServerLog log, ConcurrentDictionary<HttpContext, bool> open)
    {
        _app = app;
        _open = open;
        Log = log;
    }

    public ServerLog Log { get; }

    public int Port { get; private set; }

    public bool IsTls { get; private set; }

    public Uri Url(string pathAndQuery) => new($"{(IsTls ? "wss" : "ws")}://127.0.0.1:{Port}{pathAndQuery}");

    /// <summary>Starts a server on <paramref name="port"/> (0 picks a free one). Pass the same <paramref name="log"/> to a restarted server to keep one record.
    /// With <paramref name="certificate"/>, it speaks TLS only (wss://), and with <paramref name="requireClientCertificate"/>
    /// it refuses a client without a certificate (any certificate is accepted). With <paramref name="http2Only"/> it
    /// speaks HTTP/2 only (h2c with prior knowledge on ws://), so WebSockets come as RFC 8441 extended CONNECTs.</summary>
    public static async Task<TestServer> StartAsync(int port = 0, ServerLog? log = null, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, bool requireClientCertificate = false, bool http2Only = false)
    {
        log ??= new ServerLog();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, port, listen =>
        {
            if (http2Only)
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2;
            }

            if (certificate is not null)
            {
                listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateMode = requireClientCertificate
                        ? Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate
                        : Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.NoCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                });
            }
        }));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        var open = new ConcurrentDictionary<HttpContext, bool>();
        app.Use(async (context, next) =>
        {
            open[context] = true;
            try
            {
                await next(context);
            }
            finally
            {
                open.TryRemove(context, out _);
            }
        });
        Map(app, log);
        await app.StartAsync();
        var server = new TestServer(app, log, open);
        server.Port = new Uri(app.Urls.First()).Port;
        server.IsTls = certificate is not null;
        return server;
    }

    /// <summary>Stops the server as a crash would: every open connection is reset, then the listener closes.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var context in _open.Keys)
        {
            try
            {
                context.Abort();
            }
            catch (ObjectDisposedException)
            {
                // That request ended on its own while we got to it.
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    private static void Map(WebApplication app, ServerLog log)
    {
        app.Map("/status/{code:int}", (HttpContext context, int code) =>
        {
            if (context.Request.Query["retryAfter"] is { Count: > 0 } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString();
            }

            return Results.StatusCode(code);
        });

        app.Map("/client-certificate", async context =>
        {
            string thumbprint = context.Connection.ClientCertificate?.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) ?? "none";
            using var socket = await AcceptAsync(context, log);
            await socket.SendAsync(Encoding.UTF8.GetBytes(thumbprint), WebSocketMessageType.Text, true, context.RequestAborted);
            await EchoAsync(socket, log, limit: int.MaxValue, context.RequestAborted);
        });

        app.Map("/echo", async context =>
        {
            using var socket = await AcceptAsync(context, log);
            await EchoAsync(socket, log, limit: int.MaxValue, context.RequestAborted);
        });

        app.Map("/abort", async context =>
        {
            int after = int.Parse(context.Request.Query["after"].ToString() is { Length: > 0 } a ? a : "0", System.Globalization.CultureInfo.InvariantCulture);
            using var socket = await AcceptAsync(context, log);
            await EchoAsync(socket, log, after, context.RequestAborted);
            context.Abort();
        });

        app.Map("/push", async context =>
        {
            int n = int.Parse(context.Request.Query["n"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            int size = context.Request.Query["size"].ToString() is { Length: > 0 } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 0;
            using var socket = await AcceptAsync(context, log);
            for (int i = 0; i < n; i++)
            {
                string text = i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(size, '.');
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, context.RequestAborted);
            }

            await EchoAsync(socket, log, int.MaxValue, context.RequestAborted);
        });

        app.Map("/big", async context =>
        {
            int size = int.Parse(context.Request.Query["size"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            using var socket = await AcceptAsync(context, log);
            await socket.SendAsync(new byte[size], WebSocketMessageType.Binary, true, context.RequestAborted);
            await EchoAsync(socket, log, int.MaxValue, context.RequestAborted);
        });

        app.Map("/sink", async context =>
        {
            int pauseEvery = int.Parse(context.Request.Query["pauseEvery"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            using var socket = await AcceptAsync(context, log);
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        log.OnClose(socket.CloseStatus, socket.CloseStatusDescription);
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                        return;
                    }

                    if (result.EndOfMessage && log.OnSinkMessage() % pauseEvery == 0)
                    {
                        await Task.Delay(1, context.RequestAborted); // a slow reader
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                // The client went away.
            }
        });

        app.Map("/close", async context =>
        {
            var status = (WebSocketCloseStatus)int.Parse(context.Request.Query["status"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            string? reason = context.Request.Query["reason"].ToString() is { Length: > 0 } r ? r : null;
            using var socket = await AcceptAsync(context, log);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.CloseAsync(status, reason, timeout.Token);
        });
    }

    private static async Task<WebSocket> AcceptAsync(HttpContext context, ServerLog log)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            throw new InvalidOperationException("Not a WebSocket request.");
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(),
            DangerousEnableCompression = true,
        });
        log.OnAccepted(context.Request.Path + context.Request.QueryString, context.Request.Headers);
        return socket;
    }

    private static async Task EchoAsync(WebSocket socket, ServerLog log, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        int echoed = 0;
        try
        {
            while (echoed < limit)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    log.OnClose(socket.CloseStatus, socket.CloseStatusDescription);
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, cancellationToken);
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var data = message.ToArray();
                message.SetLength(0);
                log.OnMessage(result.MessageType, data);
                await socket.SendAsync(data, result.MessageType, true, cancellationToken);
                echoed++;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away or the server is stopping: this connection is over.
        }
    }
}

/// <summary>What a <see cref="TestServer"/> saw, kept across restarts.</summary>
public sealed class ServerLog
{
    private readonly ConcurrentQueue<string> _texts = new();
    private readonly ConcurrentQueue<(WebSocketCloseStatus? Status, string? Description)> _closes = new();
    private readonly ConcurrentQueue<IHeaderDictionary> _handshakes = new();
    private int _connections;
    private long _sunk;

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Messages the /sink endpoint has read (counted, not kept).</summary>
    public long Sunk => Interlocked.Read(ref _sunk);

    public IReadOnlyCollection<string> Texts => _texts;

    public IReadOnlyCollection<(WebSocketCloseStatus? Status, string? Description)> Closes => _closes;

    public IReadOnlyCollection<IHeaderDictionary> Handshakes => _handshakes;

    public event Action? Changed;

    internal void OnAccepted(string path, IHeaderDictionary headers)
    {
        _handshakes.Enqueue(new HeaderDictionary(headers.ToDictionary(h => h.Key, h => h.Value)));
        Interlocked.Increment(ref _connections);
        Changed?.Invoke();
    }

    internal long OnSinkMessage()
    {
        long count = Interlocked.Increment(ref _sunk);
        Changed?.Invoke();
        return count;
    }

    internal void OnMessage(WebSocketMessageType type, byte[] data)
    {
        if (type == WebSocketMessageType.Text)
        {
            _texts.Enqueue(Encoding.UTF8.GetString(data));
        }

        Changed?.Invoke();
    }

    internal void OnClose(WebSocketCloseStatus? status, string? description)
    {
        _closes.Enqueue((status, description));
        Changed?.Invoke();
    }

    /// <summary>Waits, up to <paramref name="timeout"/>, until <paramref name="condition"/> holds.</summary>
    public async Task WaitUntilAsync(Func<ServerLog, bool> condition, TimeSpan timeout, string what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (condition(this))
            {
                done.TrySetResult();
            }
        }

        Changed += Check;
        try
        {
            Check();
            await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The server did not see {what} within {timeout}.");
        }
        finally
        {
            Changed -= Check;
        }
    }
}
