using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// Hands received messages to the observers: through a bounded buffer and one dispatch loop (so the receive loop keeps
/// reading while observers are slow), or inline. It lives as long as the client, so messages keep their order across
/// sessions, and it completes <c>Messages</c> once the last buffered message has been delivered.
/// </summary>
internal sealed class MessageDispatcher
{
    private readonly Broadcast<WebSocketMessage> _messages;
    private readonly Action<WebSocketMessage, DropReason> _onDropped;
    private readonly Channel<WebSocketMessage>? _buffer;
    private readonly ConcurrentQueue<WebSocketMessage> _evicted = new();
    private readonly bool _wait;
    private readonly Task _loop = Task.CompletedTask;

    public MessageDispatcher(ReceiveBufferOptions options, Broadcast<WebSocketMessage> messages, Action<WebSocketMessage, DropReason> onDropped)
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

    /// <summary>Hands one message over. Called only by the receive loop of the current session.</summary>
    /// <param name="message">The whole message.</param>
    /// <param name="cancellationToken">Ends a wait for room (the session is ending); the message is then reported as dropped.</param>
    public ValueTask DeliverAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        if (_buffer is null)
        {
            _messages.Publish(message);
            return default;
        }

        if (_buffer.Writer.TryWrite(message))
        {
            ReportEvicted();
            return default;
        }

        return _wait ? WaitForRoomAsync(message, cancellationToken) : default;
    }

    /// <summary>No more messages: the dispatch loop delivers what is buffered, then completes <c>Messages</c>.</summary>
    public void Complete()
    {
        if (_buffer is null || !_buffer.Writer.TryComplete())
        {
            _messages.Complete();
        }
    }

    private async ValueTask WaitForRoomAsync(WebSocketMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _buffer!.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            _onDropped(message, DropReason.ReceiveBufferFull);
        }
    }

    private async Task DispatchLoopAsync()
    {
        var reader = _buffer!.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var message))
            {
                _messages.Publish(message);
            }
        }

        _messages.Complete();
    }

    private void ReportEvicted()
    {
        while (_evicted.TryDequeue(out var message))
        {
            _onDropped(message, DropReason.ReceiveBufferFull);
        }
    }
}
