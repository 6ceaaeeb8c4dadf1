using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// The default connector: a new <see cref="ClientWebSocket"/> per attempt, keep-alive from the options, then
/// <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/> (which may override anything set here).
/// </summary>
/// <remarks>
/// It connects through its own <see cref="SocketsHttpHandler"/> whose ConnectCallback returns a
/// <see cref="CoalescingStream"/>, so that the send loop can write several queued messages in one socket write.
/// That path is pinned to HTTP/1.1 (HTTP/2 frames the data itself). When the app's settings do not fit it — a
/// different HTTP version, or a proxy, credentials, client certificates, a certificate validation callback or cookies
/// set on <see cref="ClientWebSocketOptions"/> (which the runtime refuses together with a custom handler) — the connector
/// falls back, for good, to the runtime's own path: everything works as configured, without coalescing.
/// </remarks>
internal sealed class ClientWebSocketConnector : IWebSocketConnector, IDisposable
{
    private static readonly ConditionalWeakTable<WebSocket, CoalescingStream> Coalescers = new();

    private readonly ReconnectingWebSocketOptions _options;
    private readonly Lazy<SocketsHttpHandler> _handler;
    private CoalescingStream? _connecting;
    private volatile bool _plainOnly;

    public ClientWebSocketConnector(ReconnectingWebSocketOptions options)
    {
        _options = options;
        _handler = new Lazy<SocketsHttpHandler>(CreateHandler);
    }

    /// <summary>The coalescing stream under <paramref name="socket"/>, if it was opened on that path.</summary>
    public static CoalescingStream? GetCoalescer(WebSocket socket) => Coalescers.TryGetValue(socket, out var stream) ? stream : null;

    public async ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (!_plainOnly)
        {
            var socket = CreateSocket();
            if (socket.Options.HttpVersion == HttpVersion.Version11 && socket.Options.HttpVersionPolicy == HttpVersionPolicy.RequestVersionOrLower)
            {
                socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
                try
                {
                    await ConnectAsync(socket, uri, new HttpMessageInvoker(_handler.Value, disposeHandler: false), cancellationToken).ConfigureAwait(false);
                    if (Interlocked.Exchange(ref _connecting, null) is { } stream)
                    {
                        Coalescers.AddOrUpdate(socket, stream);
                    }

                    return socket;
                }
                catch (ArgumentException)
                {
                    // Options the runtime refuses with a custom handler: use its own path from now on.
                    _plainOnly = true;
                }
            }
            else
            {
                _plainOnly = true;
                socket.Dispose();
            }
        }

        var plain = CreateSocket();
        await ConnectAsync(plain, uri, invoker: null, cancellationToken).ConfigureAwait(false);
        return plain;
    }

    public void Dispose()
    {
        if (_handler.IsValueCreated)
        {
            _handler.Value.Dispose();
        }
    }

    private static async Task ConnectAsync(ClientWebSocket socket, Uri uri, HttpMessageInvoker? invoker, CancellationToken cancellationToken)
    {
        try
        {
            if (invoker is null)
            {
                await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(uri, invoker, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (WebSocketException ex) when (socket.HttpStatusCode is not 0 and not HttpStatusCode.SwitchingProtocols)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw new WebSocketHandshakeException(status, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private ClientWebSocket CreateSocket()
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = _options.KeepAliveInterval;
#if NET9_0_OR_GREATER
        if (_options.KeepAliveInterval > TimeSpan.Zero)
        {
            socket.Options.KeepAliveTimeout = _options.KeepAliveTimeout;
        }
#endif
        _options.ConfigureWebSocket?.Invoke(socket.Options);
        return socket;
    }

    private SocketsHttpHandler CreateHandler() => new()
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var stream = new CoalescingStream(new NetworkStream(socket, ownsSocket: true));
            Volatile.Write(ref _connecting, stream);
            return stream;
        },
    };
}
