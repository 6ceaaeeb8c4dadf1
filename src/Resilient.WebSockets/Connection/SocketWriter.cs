using System.Net.WebSockets;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Connection;

/// <summary>
/// Every write to one session's socket, under the session's send lock (the socket allows one write at a time): the send
/// loop's frames and batch flushes, the writes that go ahead of the queue (the <c>OnConnected</c> hook's, the
/// heartbeat's), and the close frame.
/// </summary>
/// <remarks>No write is ever given a token that can fire while it runs (cancelling a WebSocket write aborts the socket);
/// a token may only end the wait for the lock, except where a caller is told that cancelling aborts the session.</remarks>
#pragma warning disable CA1001 // The lock is never disposed: it has no wait handle, and a direct write that fails after the session ended may still release it (see SealAsync).
internal sealed class SocketWriter : IFrameWriter
#pragma warning restore CA1001
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly WebSocket _socket;
    private readonly CoalescingStream? _coalescer;
    private Task? _sealed;

    public SocketWriter(WebSocket socket, CoalescingStream? coalescer)
    {
        _socket = socket;
        _coalescer = coalescer;
    }

    public bool CanHold => _coalescer is not null;

    public bool BatchFull(int heldMessages) =>
        _coalescer!.Buffered >= CoalescingStream.FlushThreshold || heldMessages >= CoalescingStream.MaxBatchMessages;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool hold)
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (hold)
            {
                _coalescer!.BufferNextWrite();
            }

            await _socket.SendAsync(data, messageType, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
        }
        catch when (hold)
        {
            _coalescer!.CancelBufferNextWrite();
            throw;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask FlushAsync()
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await _coalescer!.FlushBatchAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>One whole message ahead of the queue, between two queued messages.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="messageType">Text or binary.</param>
    /// <param name="lockToken">Ends the wait for the lock.</param>
    /// <param name="writeToken">Cancels the write itself, which aborts the socket.</param>
    public async ValueTask WriteDirectAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, CancellationToken lockToken, CancellationToken writeToken)
    {
        await _sendLock.WaitAsync(lockToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(data, messageType, endOfMessage: true, writeToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Takes the send lock if it is free now, without waiting (the direct lane).</summary>
    public bool TryEnter() => _sendLock.Wait(0);

    /// <summary>One whole message, with the lock taken by <see cref="TryEnter"/> (the caller releases it).</summary>
    public ValueTask WriteEnteredAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType) =>
        _socket.SendAsync(data, messageType, endOfMessage: true, CancellationToken.None);

    public void Exit() => _sendLock.Release();

    /// <summary>Takes the send lock for good, once every write under way (a direct one included) has finished: nothing
    /// is written on this socket after the session has ended. Idempotent.</summary>
    public Task SealAsync()
    {
        var sealing = _sendLock.WaitAsync();
        var previous = Interlocked.CompareExchange(ref _sealed, sealing, null);
        if (previous is null)
        {
            return sealing;
        }

        // Sealed already: give back what this call took, if it got it.
        _ = sealing.ContinueWith(static (_, state) => ((SemaphoreSlim)state!).Release(), _sendLock, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return previous;
    }

    /// <summary>Sends the close frame if the socket can still send one; false when that write failed.</summary>
    public async Task<bool> TryCloseOutputAsync(WebSocketCloseStatus status, string? description)
    {
        await _sendLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, description, CancellationToken.None).ConfigureAwait(false);
            }

            return true;
        }
#pragma warning disable CA1031 // The peer may be gone already; the session is ending either way.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
