using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;
using Resilient.WebSockets.Health;

namespace Resilient.WebSockets.Receiving;

/// <summary>How a session's receive loop ended.</summary>
internal enum ReceiveEnd
{
    /// <summary>The server's close frame arrived (the socket holds its code and text).</summary>
    ClosedByServer,

    /// <summary>A message grew past the size limit; nothing of it was published.</summary>
    MessageTooLarge,

    /// <summary>A receive failed (see <see cref="ReceiveOutcome.Exception"/>).</summary>
    Failed,
}

/// <summary>The end of a receive loop, and the exception behind a <see cref="ReceiveEnd.Failed"/>.</summary>
internal readonly record struct ReceiveOutcome(ReceiveEnd End, Exception? Exception = null);

/// <summary>
/// The only reader of a session's socket: assembles fragments into whole messages in a pooled buffer (never past the
/// size limit), stamps activity for the health detectors, filters heartbeat replies, and hands each message to the
/// dispatcher, telling it when the next read would wait (the dispatcher decides when to hand a batch over).
/// </summary>
/// <remarks>It never cancels a socket call (cancelling a pending WebSocket operation aborts the socket): the session
/// aborts the socket instead, and the loop ends on the resulting error.</remarks>
internal sealed class ReceiveLoop : IDisposable
{
    private readonly WebSocket _socket;
    private readonly MessageDispatcher _dispatcher;
    private readonly SessionHealth _health;
    private readonly MessageAssembler _assembler;
    private readonly int _maxMessageSize;
    private readonly ILogger _logger;
    private readonly string _name;

    public ReceiveLoop(WebSocket socket, MessageDispatcher dispatcher, SessionHealth health, int maxMessageSize, ILogger logger, string name)
    {
        _socket = socket;
        _dispatcher = dispatcher;
        _health = health;
        _maxMessageSize = maxMessageSize;
        _logger = logger;
        _name = name;
        _assembler = new MessageAssembler(maxMessageSize);
    }

    /// <summary>Reads until the server closes, a message is too large, or a receive fails. What was received before the
    /// end is handed over before this returns (waits for room end with <paramref name="aborted"/>).</summary>
    public async Task<ReceiveOutcome> RunAsync(CancellationToken aborted)
    {
        try
        {
            while (true)
            {
                var receive = _socket.ReceiveAsync(_assembler.GetReceiveBuffer(), CancellationToken.None);
                if (!receive.IsCompleted)
                {
                    await _dispatcher.OnReadPendingAsync(aborted).ConfigureAwait(false);
                }

                var result = await receive.ConfigureAwait(false);
                _health.OnActivity();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return new ReceiveOutcome(ReceiveEnd.ClosedByServer);
                }

                if (!_assembler.Advance(result.Count))
                {
                    Log.MessageTooLarge(_logger, _name, _maxMessageSize);
                    _dispatcher.ReportDropped(result.MessageType, _assembler.Count, DropReason.MessageTooLarge);
                    _assembler.Reset();
                    return new ReceiveOutcome(ReceiveEnd.MessageTooLarge);
                }

                if (result.EndOfMessage)
                {
                    Log.MessageReceived(_logger, _name, result.MessageType, _assembler.Count);
                    var message = _assembler.TakeMessage(result.MessageType);
                    if (_health.ShouldPublish(message))
                    {
                        await _dispatcher.AddAsync(message, aborted).ConfigureAwait(false);
                    }
                }
            }
        }
#pragma warning disable CA1031 // Every failure of the connection ends the session with a reason; none may escape the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new ReceiveOutcome(ReceiveEnd.Failed, ex);
        }
        finally
        {
            // Whatever arrived before the end is still delivered, in order.
            await _dispatcher.OnReadPendingAsync(aborted).ConfigureAwait(false);
        }
    }

    /// <summary>After our close frame for an oversized message: reads and discards until the server's close frame.</summary>
    public async Task DiscardUntilCloseAsync()
    {
        while (_socket.State is WebSocketState.CloseSent or WebSocketState.Open)
        {
            var result = await _socket.ReceiveAsync(_assembler.GetReceiveBuffer(), CancellationToken.None).ConfigureAwait(false);
            _assembler.Reset();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
        }
    }

    public void Dispose() => _assembler.Dispose();
}
