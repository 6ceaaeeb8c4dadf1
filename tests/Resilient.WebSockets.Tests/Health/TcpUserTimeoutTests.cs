using System.Net.Sockets;
using System.Net.WebSockets;
using Resilient.WebSockets.Health;

namespace Resilient.WebSockets.Tests.Health;

/// <summary>When the client asks the OS for a TCP user timeout (where nothing else bounds a dead link's detection), and
/// which failures it then explains as <see cref="DisconnectReason.KeepAliveTimeout"/>.</summary>
public class TcpUserTimeoutTests
{
    private static readonly ReconnectingWebSocketOptions Options = new()
    {
        Uri = new Uri("ws://127.0.0.1:1/"),
        KeepAliveInterval = TimeSpan.FromSeconds(2),
        KeepAliveTimeout = TimeSpan.FromSeconds(3),
    };

    private static ClientWebSocketOptions Socket(Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = Options.KeepAliveInterval;
        configure?.Invoke(socket.Options);
        return socket.Options;
    }

    [Fact]
    public void RuntimeKeepAliveThatCannotTimeOut_OnLinux_IsBoundedByKeepAliveTimeout()
    {
        Assert.Equal(OperatingSystem.IsLinux() ? Options.KeepAliveTimeout : null, KeepAlive.TcpUserTimeout(Socket(), Options, clientKeepAlive: false));
    }

    [Fact]
    public void ClientsOwnKeepAlive_SetsNone()
    {
        Assert.Null(KeepAlive.TcpUserTimeout(Socket(), Options, clientKeepAlive: true));
    }

    [Fact]
    public void KeepAliveOff_SetsNone()
    {
        Assert.Null(KeepAlive.TcpUserTimeout(Socket(o => o.KeepAliveInterval = TimeSpan.Zero), Options, clientKeepAlive: false));
    }

    [Fact]
    public void InfiniteKeepAliveTimeout_SetsNone()
    {
        var options = new ReconnectingWebSocketOptions { Uri = Options.Uri, KeepAliveTimeout = Timeout.InfiniteTimeSpan };

        Assert.Null(KeepAlive.TcpUserTimeout(Socket(), options, clientKeepAlive: false));
    }

#if NET9_0_OR_GREATER
    [Fact]
    public void RuntimeKeepAliveThatTimesOut_SetsNone()
    {
        Assert.Null(KeepAlive.TcpUserTimeout(Socket(o => o.KeepAliveTimeout = TimeSpan.FromSeconds(1)), Options, clientKeepAlive: false));
    }
#endif

    [Fact]
    public void IsTcpUserTimeout_TheKernelsTimedOut_InsideWhatTheRuntimeThrows()
    {
        var failure = new WebSocketException(WebSocketError.ConnectionClosedPrematurely, new IOException("read failed", new SocketException((int)SocketError.TimedOut)));

        Assert.True(KeepAlive.IsTcpUserTimeout(failure, tcpUserTimeout: true));
        Assert.False(KeepAlive.IsTcpUserTimeout(failure, tcpUserTimeout: false)); // none was set: a timeout of something else
    }

    [Fact]
    public void IsTcpUserTimeout_OtherSocketErrors_AreNot()
    {
        var reset = new WebSocketException(WebSocketError.ConnectionClosedPrematurely, new IOException("read failed", new SocketException((int)SocketError.ConnectionReset)));

        Assert.False(KeepAlive.IsTcpUserTimeout(reset, tcpUserTimeout: true));
        Assert.False(KeepAlive.IsTcpUserTimeout(null, tcpUserTimeout: true));
    }
}
