using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Resilient.WebSockets.Testing;

/// <summary>
/// A WebSocket server in memory, for testing an app's own reconnect logic in milliseconds: put <see cref="Connector"/> in
/// <see cref="ReconnectingWebSocketOptions.Connector"/>, take each connection with <see cref="AcceptAsync"/>, and
/// decide how the next attempts go (<see cref="RefuseNext"/>, <see cref="FailNext"/>, <see cref="HangNext"/>,
/// <see cref="DelayNext"/>). No socket, no port, no thread of its own.
/// </summary>
/// <remarks>
/// <para>Every attempt that is not refused, failed or hung gets a connection: the client's end is a real
/// <see cref="WebSocket"/> (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/> over an
/// in-memory pipe) and the server's end is an <see cref="InMemoryConnection"/>, whether or not the test accepts it.</para>
/// <para>Scripted outcomes apply to the next attempts in the order they were scripted: <c>RefuseNext(503, 2);
/// FailNext(error)</c> refuses attempts one and two and fails the third. Pass the client's fake clock as
/// <paramref name="timeProvider"/> so that <see cref="DelayNext"/> and latencies run on it.</para>
/// </remarks>
/// <param name="timeProvider">The clock of delays and latencies; the system clock if null.</param>
public sealed class InMemoryWebSocketServer(TimeProvider? timeProvider = null) : IAsyncDisposable
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Channel<InMemoryConnection> _accepted = Channel.CreateUnbounded<InMemoryConnection>();
    private readonly ConcurrentQueue<Func<CancellationToken, Task>> _script = new();
    private readonly ConcurrentBag<InMemoryConnection> _connections = [];
    private ServerConnector? _connector;
    private int _attempts;
    private bool _disposed;

    /// <summary>The connector to put in <see cref="ReconnectingWebSocketOptions.Connector"/>: one attempt per call.</summary>
    public IWebSocketConnector Connector => _connector ??= new ServerConnector(this);

    /// <summary>How many connect attempts reached the server so far, refused, failed and hung ones included.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>The next connection that was opened (in attempt order).</summary>
    /// <param name="cancellationToken">Cancels waiting; use a timeout, so a test that expected a connect that never
    /// comes fails instead of hanging.</param>
    /// <returns>The server's side of the connection.</returns>
    /// <exception cref="ObjectDisposedException">The server was disposed.</exception>
    public async ValueTask<InMemoryConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(InMemoryWebSocketServer));
        }
    }

    /// <summary>The next <paramref name="times"/> attempts are answered with HTTP <paramref name="status"/> instead of
    /// 101: the client sees a <see cref="WebSocketHandshakeException"/>, as from a real server (401, 403 and 407 are not
    /// retried by default).</summary>
    /// <param name="status">The status, for example <see cref="HttpStatusCode.Unauthorized"/> or <see cref="HttpStatusCode.ServiceUnavailable"/>.</param>
    /// <param name="times">How many attempts (at least 1).</param>
    public void RefuseNext(HttpStatusCode status, int times = 1)
    {
        if ((int)status is < 100 or > 599 || status == HttpStatusCode.SwitchingProtocols)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A refusal is an HTTP status from 100 to 599 other than 101 (which accepts).");
        }

        Script(times, _ => throw new WebSocketHandshakeException(status, innerException: null));
    }

    /// <summary>The next <paramref name="times"/> attempts fail with <paramref name="error"/> (a refused TCP connect is
    /// a <see cref="WebSocketException"/> around a <see cref="System.Net.Sockets.SocketException"/>, say).</summary>
    /// <param name="error">The exception the attempt throws.</param>
    /// <param name="times">How many attempts (at least 1).</param>
    public void FailNext(Exception error, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(error);
        Script(times, _ => throw error);
    }

    /// <summary>The next <paramref name="times"/> attempts never answer, as a black-holed SYN: each ends when the client
    /// gives it up (its <see cref="ReconnectingWebSocketOptions.ConnectTimeout"/>, on its clock).</summary>
    /// <param name="times">How many attempts (at least 1).</param>
    public void HangNext(int times = 1) => Script(times, cancellationToken => Task.Delay(Timeout.Infinite, cancellationToken));

    /// <summary>The next <paramref name="times"/> attempts connect after <paramref name="delay"/> on the server's clock.</summary>
    /// <param name="delay">How long each attempt takes (not negative).</param>
    /// <param name="times">How many attempts (at least 1).</param>
    public void DelayNext(TimeSpan delay, int times = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Script(times, cancellationToken => Task.Delay(delay, _time, cancellationToken));
    }

    /// <summary>Aborts every connection and ends <see cref="AcceptAsync"/>; later attempts fail.</summary>
    /// <returns>A task that completes when every connection is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, true);
        _accepted.Writer.TryComplete();
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Script(int times, Func<CancellationToken, Task> outcome)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        for (int i = 0; i < times; i++)
        {
            _script.Enqueue(outcome);
        }
    }

    private async ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        int attempt = Interlocked.Increment(ref _attempts);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (_script.TryDequeue(out var outcome))
        {
            await outcome(cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var pipe = new InMemoryPipe(_time);
        var client = WebSocket.CreateFromStream(pipe.Client, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var server = WebSocket.CreateFromStream(pipe.Server, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var connection = new InMemoryConnection(attempt, uri, pipe, server);
        _connections.Add(connection);
        if (!_accepted.Writer.TryWrite(connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(nameof(InMemoryWebSocketServer));
        }

        return client;
    }

    private sealed class ServerConnector(InMemoryWebSocketServer server) : IWebSocketConnector
    {
        public ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken) => server.ConnectAsync(uri, cancellationToken);
    }
}
