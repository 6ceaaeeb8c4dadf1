using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// Hands received messages to the observers of <c>Messages</c>: through a bounded buffer and one dispatch loop (so the
/// receive loop keeps reading while observers are slow), or inline. It lives as long as the client, so messages keep
/// their order across sessions, and it completes <c>Messages</c> once the last buffered message has been delivered.
/// </summary>
/// <remarks>
/// The batching rule lives here: the receive loop adds each message and says when its next read would wait
/// (<see cref="OnReadPendingAsync"/>); the batch is handed over then, or every <see cref="MaxBatch"/> messages. In a
/// flood the dispatch loop is woken once per batch instead of once per message, and a lone message is handed over at
/// once. Every message leaves exactly once: delivered, or reported dropped (a full buffer in a drop mode, a session
/// that ended while the buffer was full, or a message that arrived after dispose).
/// </remarks>
internal sealed class MessageDispatcher
{
    internal const int MaxBatch = 64;

    private readonly Broadcast<WebSocketMessage> _messages;
    private readonly Action<WebSocketMessageType, int, DropReason> _onDropped;
    private readonly Channel<WebSocketMessage>? _buffer;
    private readonly ConcurrentQueue<WebSocketMessage> _evicted = new();
    private readonly bool _wait;
    private readonly Task _loop = Task.CompletedTask;
    private readonly List<WebSocketMessage> _batch = new(MaxBatch);
    private long _handedOver;
    private long _settled;
    private Waiter? _waiter;

    public MessageDispatcher(ReceiveBufferOptions options, Broadcast<WebSocketMessage> messages, Action<WebSocketMessageType, int, DropReason> onDropped)
    {
        _messages = messages;
        _onDropped = onDropped;
        _wait = options.FullMode == ReceiveBufferFullMode.Wait;
        if (options.DeliverInline)
        {
            return;
        }

        _buffer = Channel.CreateBounded<WebSocketMessage>(
            new BoundedChannelOptions(options.Capacity)
            {
                FullMode = options.FullMode switch
                {
                    ReceiveBufferFullMode.DropOldest => BoundedChannelFullMode.DropOldest,
                    ReceiveBufferFullMode.DropNewest => BoundedChannelFullMode.DropNewest,
                    _ => BoundedChannelFullMode.Wait,
                },
                SingleReader = true,
                SingleWriter = true,
                AllowSynchronousContinuations = false,
            },
            _evicted.Enqueue);
        _loop = Task.Run(DispatchLoopAsync);
    }

    /// <summary>Completes when every message handed over before <see cref="Complete"/> has been delivered (or reported).</summary>
    public Task Completion => _loop;

    /// <summary>Adds one message: inline, delivers it now; buffered, hands the batch over once it is full.</summary>
    /// <param name="message">The whole message.</param>
    /// <param name="cancellationToken">Ends a wait for room (the session is ending).</param>
    public ValueTask AddAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        if (_buffer is null)
        {
            Deliver(message);
            return default;
        }

        _batch.Add(message);
        return _batch.Count >= MaxBatch ? FlushAsync(cancellationToken) : default;
    }

    /// <summary>The receive loop's next read will wait for the network: hand over what arrived meanwhile.</summary>
    public ValueTask OnReadPendingAsync(CancellationToken cancellationToken) =>
        _batch.Count > 0 ? FlushAsync(cancellationToken) : default;

    /// <summary>Reports an incoming message that was never assembled (too large).</summary>
    public void ReportDropped(WebSocketMessageType messageType, int length, DropReason reason) => _onDropped(messageType, length, reason);

    /// <summary>A task that completes once every message handed over so far has been delivered or reported; called after
    /// a session's receive loop ended, so that its <c>Disconnected</c> follows its last message.</summary>
    public Task WhenDelivered()
    {
        if (_buffer is null)
        {
            return Task.CompletedTask;
        }

        long target = Volatile.Read(ref _handedOver);
        if (Volatile.Read(ref _settled) >= target)
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _waiter, new Waiter(target, done));
        CheckWaiter();
        return done.Task;
    }

    /// <summary>No more messages: the dispatch loop delivers what is buffered, then completes <c>Messages</c>.</summary>
    public void Complete()
    {
        if (_buffer is null || !_buffer.Writer.TryComplete())
        {
            _messages.Complete();
        }
    }

    /// <summary>Hands the batch over to the dispatch loop, waiting for room in <see cref="ReceiveBufferFullMode.Wait"/>.</summary>
    /// <param name="cancellationToken">Ends a wait for room; what was not handed over is reported as dropped.</param>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var message in _batch)
            {
                if (_buffer!.Writer.TryWrite(message))
                {
                    Interlocked.Increment(ref _handedOver);
                    ReportEvicted();
                }
                else if (_wait)
                {
                    await WaitForRoomAsync(message, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    Drop(message, DropReason.Disposed); // a drop mode refuses only once the client is disposed
                }
            }
        }
        finally
        {
            _batch.Clear();
        }
    }

    private void Drop(WebSocketMessage message, DropReason reason) => _onDropped(message.MessageType, message.ByteLength, reason);

    private void Deliver(WebSocketMessage message)
    {
        if (!_messages.Publish(message))
        {
            Drop(message, DropReason.Disposed);
        }
    }

    private async ValueTask WaitForRoomAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _buffer!.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _handedOver);
        }
        catch (OperationCanceledException)
        {
            // The session ended while the observers were behind: this one cannot wait longer.
            Drop(message, DropReason.ReceiveBufferFull);
        }
        catch (ChannelClosedException)
        {
            Drop(message, DropReason.Disposed);
        }
    }

    private async Task DispatchLoopAsync()
    {
        var reader = _buffer!.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                Deliver(message);
                Settle();
            }
        }

        _messages.Complete();
        Volatile.Read(ref _waiter)?.Done.TrySetResult();
    }

    private void ReportEvicted()
    {
        while (_evicted.TryDequeue(out var message))
        {
            Drop(message, DropReason.ReceiveBufferFull);
            Settle();
        }
    }

    private void Settle()
    {
        Interlocked.Increment(ref _settled);
        CheckWaiter();
    }

    private void CheckWaiter()
    {
        if (Volatile.Read(ref _waiter) is { } waiter && Volatile.Read(ref _settled) >= waiter.Target)
        {
            waiter.Done.TrySetResult();
        }
    }

    private sealed record Waiter(long Target, TaskCompletionSource Done);
}
