using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// Hands received messages to the observers: through a bounded buffer and one dispatch loop (so the receive loop keeps
/// reading while observers are slow), or inline. It lives as long as the client, so messages keep their order across
/// sessions, and it completes <c>Messages</c> once the last buffered message has been delivered.
/// </summary>
/// <remarks>
/// The receive loop adds messages to a small batch and hands the batch over when its next read would wait, or every
/// <see cref="MaxBatch"/> messages: in a flood the dispatch loop is woken once per batch instead of once per message,
/// and a lone message is handed over at once (its read is followed by a read that waits).
/// </remarks>
internal sealed class MessageDispatcher
{
    private readonly Broadcast<WebSocketMessage> _messages;
    private readonly Action<WebSocketMessage, DropReason> _onDropped;
    private readonly Channel<WebSocketMessage>? _buffer;
    private readonly ConcurrentQueue<WebSocketMessage> _evicted = new();
    internal const int MaxBatch = 64;

    private readonly bool _wait;
    private readonly Task _loop = Task.CompletedTask;
    private readonly List<WebSocketMessage> _batch = new(MaxBatch);

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

    /// <summary>Messages added and not yet handed over.</summary>
    public int Pending => _batch.Count;

    /// <summary>Adds one message (inline: delivers it now). Called only by the receive loop of the current session.</summary>
    public void Add(WebSocketMessage message)
    {
        if (_buffer is null)
        {
            _messages.Publish(message);
            return;
        }

        _batch.Add(message);
    }

    /// <summary>Hands the batch over to the dispatch loop, waiting for room in <see cref="ReceiveBufferFullMode.Wait"/>.</summary>
    /// <param name="cancellationToken">Ends a wait for room (the session is ending); what was not handed over is reported as dropped.</param>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var message in _batch)
            {
                if (_buffer!.Writer.TryWrite(message))
                {
                    ReportEvicted();
                }
                else if (_wait)
                {
                    await WaitForRoomAsync(message, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    _onDropped(message, DropReason.Disposed); // a drop mode refuses only once the client is disposed
                }
            }
        }
        finally
        {
            _batch.Clear();
        }
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
        catch (OperationCanceledException)
        {
            // The session ended while the observers were behind: this one cannot wait longer.
            _onDropped(message, DropReason.ReceiveBufferFull);
        }
        catch (ChannelClosedException)
        {
            _onDropped(message, DropReason.Disposed);
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
