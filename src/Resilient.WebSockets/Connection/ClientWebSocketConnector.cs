using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Resilient.WebSockets.Health;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// The default connector: a new <see cref="ClientWebSocket"/> per attempt, keep-alive from the options, then
/// <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/> (which may override anything set here), exactly once.
/// </summary>
/// <remarks>
/// It connects through one <see cref="SocketsHttpHandler"/> shared by every client, whose plaintext stream filter (above
/// TLS) returns a <see cref="CoalescingStream"/>, so that the send loop can write several queued messages in one socket
/// write and the client's own keep-alive can ping between frames.
/// That path is pinned to HTTP/1.1 by default; an app that asks for HTTP/2 goes through the same handler (the runtime
/// speaks WebSockets over HTTP/2 only through an invoker), without coalescing and with the runtime's keep-alive, since
/// HTTP/2 frames the data itself. A certificate validation callback and client certificates move onto a handler of the
/// client's own (<see cref="HandlerFor"/>), and so do a proxy, credentials and cookies: every setting works as
/// configured on this path. Only options a runtime refuses with a custom invoker that this class does not know (an
/// <see cref="ArgumentException"/> from the connect) send the client to the runtime's own path, from the next attempt
/// on. The stream of an attempt travels back in that attempt's request options, so nothing is shared between attempts.
/// </remarks>
internal sealed partial class ClientWebSocketConnector : ISocketConnector
{
    private static readonly HttpRequestOptionsKey<StrongBox<CoalescingStream?>> StreamKey = new("Resilient.WebSockets.Stream");
    private static readonly HttpRequestOptionsKey<int> TcpUserTimeoutKey = new("Resilient.WebSockets.TcpUserTimeout");
    private static readonly IWebProxy? DefaultProxy = DefaultProxyOfClientWebSocket();

    /// <summary>One handler for every client in the process, as a bare <see cref="ClientWebSocket"/> shares the runtime's:
    /// creating one per client was a tenth of a first connect. Nothing in it is per client (its settings are fixed, each
    /// upgraded connection leaves its pool for good, and an attempt's stream travels in that attempt's request), and it
    /// lives as long as the process.</summary>
    private static readonly Lazy<SocketsHttpHandler> SharedHandler = new(CreateHandler);

    private readonly ReconnectingWebSocketOptions _options;
    private readonly SocketsHttpHandler _handler;
    private volatile bool _plainOnly;
    private (HandlerSettings Settings, SocketsHttpHandler Handler)? _own; // attempts run one at a time

    public ClientWebSocketConnector(ReconnectingWebSocketOptions options)
        : this(options, SharedHandler.Value)
    {
    }

    /// <summary>With a handler of its own (made by <see cref="CreateHandler"/>; tests set its TLS options).</summary>
    internal ClientWebSocketConnector(ReconnectingWebSocketOptions options, SocketsHttpHandler handler)
    {
        _options = options;
        _handler = handler;
    }

    public async ValueTask<ConnectedSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        KeepAlive.Apply(socket.Options, _options);
        try
        {
            _options.ConfigureWebSocket?.Invoke(socket.Options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        if (_plainOnly)
        {
            await ConnectAsync(socket, uri, invoker: null, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            return new ConnectedSocket(socket, Coalescer: null, KeepAlive.TimesOut(socket.Options));
        }

        // HTTP/1.1 as by default: pinned to it, so the stream is ours to coalesce and ping on. Any other version (HTTP/2,
        // which the runtime only speaks through an invoker) goes through the handler as asked, without either.
        bool http11 = socket.Options.HttpVersion == HttpVersion.Version11 && socket.Options.HttpVersionPolicy == HttpVersionPolicy.RequestVersionOrLower;
        if (http11)
        {
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        bool clientKeepAlive = http11 && KeepAlive.TakeOver(socket.Options, _options);
        var tcpUserTimeout = KeepAlive.TcpUserTimeout(socket.Options, _options, clientKeepAlive);
        var handler = HandlerFor(socket.Options);
        var box = new StrongBox<CoalescingStream?>();
        try
        {
            using var invoker = new AttemptInvoker(handler, box, tcpUserTimeout);
            await ConnectAsync(socket, uri, invoker, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            // Options this runtime refuses with a custom handler that the check above does not know: the runtime's own
            // path from the next attempt on (this attempt's socket is spent, and ConfigureWebSocket runs once per attempt).
            _plainOnly = true;
            throw;
        }

        var coalescer = box.Value; // null when the connection is not HTTP/1.1
        coalescer?.BeginFrames();
        return new ConnectedSocket(socket, coalescer, KeepAlive.TimesOut(socket.Options), clientKeepAlive && coalescer is not null, tcpUserTimeout);
    }

    /// <summary>
    /// The handler for this attempt. With default settings, the shared one. Settings that the runtime refuses on
    /// <see cref="ClientWebSocketOptions"/> together with a custom invoker — a certificate validation callback, client
    /// certificates, a proxy (or none, instead of the system's), credentials, cookies — move from the attempt's options
    /// onto a handler of this client's own, as the runtime's own path does with them: kept while the settings stay the same
    /// (the same delegate and objects; <see cref="ReconnectingWebSocketOptions.ConfigureWebSocket"/> runs per attempt)
    /// and replaced when they change.
    /// </summary>
    private SocketsHttpHandler HandlerFor(ClientWebSocketOptions socket)
    {
        var settings = HandlerSettings.TakeFrom(socket);
        if (settings.IsDefault)
        {
            return _handler;
        }

        if (_own is { } current && current.Settings.Matches(settings))
        {
            return current.Handler;
        }

        var handler = CreateHandler();
        settings.ApplyTo(handler);
        _own = (settings, handler);
        return handler;
    }

    private static IWebProxy? DefaultProxyOfClientWebSocket()
    {
        using var socket = new ClientWebSocket();
        return socket.Options.Proxy;
    }

    private static async Task ConnectAsync(ClientWebSocket socket, Uri uri, HttpMessageInvoker? invoker, TimeProvider timeProvider, CancellationToken cancellationToken)
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
            var retryAfter = RetryAfter(socket.HttpResponseHeaders, timeProvider);
            socket.Dispose();
            throw new WebSocketHandshakeException(status, ex) { RetryAfter = retryAfter };
        }
        catch (WebSocketException ex) when (ProxyRefusal(ex) is { } status)
        {
            socket.Dispose();
            string message = SR.Format(SR.ProxyRefused, Redaction.Endpoint(uri), (int)status, status)
                + (status == HttpStatusCode.ProxyAuthenticationRequired ? SR.ProxyRefusedCredentials : "");
            throw new WebSocketHandshakeException(status, message, ex);
        }
        catch (WebSocketException ex) when (CertificateRefusal.Find(ex) is { } refused) // three exceptions deep in what ClientWebSocket throws
        {
            socket.Dispose();
            throw new AuthenticationException(SR.Format(SR.CertificateRefused, Redaction.Endpoint(uri), refused.Message.TrimEnd('.')), ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The status a proxy refused to open the tunnel with, if that is why the connect failed.</summary>
    private static HttpStatusCode? ProxyRefusal(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is HttpRequestException { HttpRequestError: HttpRequestError.ProxyTunnelError } tunnel)
            {
                // net8 leaves StatusCode empty here; its message ("... failed with status code '407'.") carries it.
                return tunnel.StatusCode ?? (TunnelStatus().Match(tunnel.Message) is { Success: true } match
                    ? (HttpStatusCode)int.Parse(match.Groups[1].ValueSpan, provider: System.Globalization.CultureInfo.InvariantCulture)
                    : null);
            }
        }

        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex("'([1-5][0-9][0-9])'")]
    private static partial System.Text.RegularExpressions.Regex TunnelStatus();

    /// <summary>The handshake response's Retry-After (seconds, or an HTTP date), if any.</summary>
    private static TimeSpan? RetryAfter(IReadOnlyDictionary<string, IEnumerable<string>>? headers, TimeProvider timeProvider)
    {
        if (headers is null || !headers.TryGetValue("Retry-After", out var values)
            || !RetryConditionHeaderValue.TryParse(values.FirstOrDefault(), out var value))
        {
            return null;
        }

        var delay = value.Delta ?? (value.Date is { } date ? date - timeProvider.GetUtcNow() : null);
        return delay is { } positive && positive > TimeSpan.Zero ? positive : TimeSpan.Zero;
    }

    /// <summary>The handler of the coalescing path. Its streams sit above TLS (the plaintext stream filter), so that on
    /// wss:// the frames of a batch are encrypted together and the keep-alive can write its ping between two frames.</summary>
    internal static SocketsHttpHandler CreateHandler() => new()
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

                // Once connected: a raw option set before makes net8's connect to a DnsEndPoint refuse the socket
                // ("invalid for use after a failed connection attempt"); the handshake is the first data it bounds.
                if (context.InitialRequestMessage.Options.TryGetValue(TcpUserTimeoutKey, out int milliseconds))
                {
                    SetTcpUserTimeout(socket, milliseconds);
                }
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new NetworkStream(socket, ownsSocket: true);
        },
        PlaintextStreamFilter = (context, _) =>
        {
            if (context.NegotiatedHttpVersion != HttpVersion.Version11)
            {
                return ValueTask.FromResult(context.PlaintextStream); // HTTP/2 frames the WebSocket itself
            }

            var stream = new CoalescingStream(context.PlaintextStream);
            if (context.InitialRequestMessage.Options.TryGetValue(StreamKey, out var box))
            {
                box.Value = stream;
            }

            return ValueTask.FromResult<Stream>(stream);
        },
    };

    /// <summary>Linux's <c>TCP_USER_TIMEOUT</c> (level <c>IPPROTO_TCP</c> = 6, option 18): the longest time, in
    /// milliseconds, that written data may stay unacknowledged before the kernel ends the connection (ETIMEDOUT).</summary>
    private static void SetTcpUserTimeout(Socket socket, int milliseconds)
    {
        const int IpProtoTcp = 6, TcpUserTimeout = 18;
        Span<byte> value = stackalloc byte[sizeof(int)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value, milliseconds);
        socket.SetRawSocketOption(IpProtoTcp, TcpUserTimeout, value);
    }

    /// <summary>What a handler of the client's own carries: the settings of <see cref="ClientWebSocketOptions"/> that the
    /// runtime only accepts without a custom invoker.</summary>
    private sealed class HandlerSettings
    {
        private RemoteCertificateValidationCallback? _callback;
        private X509Certificate[] _certificates = [];
        private bool _useProxy = true;
        private IWebProxy? _proxy;
        private ICredentials? _credentials;
        private CookieContainer? _cookies;

        public bool IsDefault => _callback is null && _certificates.Length == 0 && _useProxy && _proxy is null && _credentials is null && _cookies is null;

        /// <summary>Reads the settings and clears them on <paramref name="socket"/> (the app's own objects are left as they were).</summary>
        public static HandlerSettings TakeFrom(ClientWebSocketOptions socket)
        {
            var settings = new HandlerSettings
            {
                _callback = socket.RemoteCertificateValidationCallback,
                _certificates = [.. socket.ClientCertificates.Cast<X509Certificate>()],
                _useProxy = socket.Proxy is not null,
                _proxy = ReferenceEquals(socket.Proxy, DefaultProxy) ? null : socket.Proxy, // the system's, as the shared handler has it
                _credentials = socket.UseDefaultCredentials ? CredentialCache.DefaultCredentials : socket.Credentials,
                _cookies = socket.Cookies,
            };
            socket.RemoteCertificateValidationCallback = null;
            if (settings._certificates.Length > 0)
            {
                socket.ClientCertificates = [];
            }

            socket.Proxy = null; // with an invoker, ignored
            socket.UseDefaultCredentials = false;
            socket.Credentials = null;
            socket.Cookies = null;
            return settings;
        }

        public bool Matches(HandlerSettings other) =>
            Equals(_callback, other._callback)
            && _certificates.AsSpan().SequenceEqual(other._certificates)
            && _useProxy == other._useProxy
            && ReferenceEquals(_proxy, other._proxy)
            && ReferenceEquals(_credentials, other._credentials)
            && ReferenceEquals(_cookies, other._cookies);

        public void ApplyTo(SocketsHttpHandler handler)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = _callback;
            if (_certificates.Length > 0)
            {
                handler.SslOptions.ClientCertificates = [.. _certificates];
            }

            handler.UseProxy = _useProxy;
            handler.Proxy = _proxy;
            handler.Credentials = _credentials;
            if (_cookies is not null)
            {
                handler.UseCookies = true;
                handler.CookieContainer = _cookies;
            }
        }
    }

    /// <summary>One attempt's invoker: it tags the handshake request, so the plaintext stream filter hands its stream to this attempt.</summary>
    private sealed class AttemptInvoker(HttpMessageHandler handler, StrongBox<CoalescingStream?> box, TimeSpan? tcpUserTimeout) : HttpMessageInvoker(handler, disposeHandler: false)
    {
        public override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Options.Set(StreamKey, box);
            if (tcpUserTimeout is { } timeout)
            {
                request.Options.Set(TcpUserTimeoutKey, (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue));
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
