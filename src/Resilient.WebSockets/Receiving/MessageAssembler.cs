using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets.Receiving;

/// <summary>
/// Collects the fragments of one incoming message in a pooled buffer and hands out each whole message as an
/// exact-size copy. Enforces the size limit before the bytes are read: a receive never asks for more than one byte
/// past the limit, so a hostile server cannot make the buffer grow beyond it.
/// </summary>
/// <remarks>Used by one receive loop only; not thread-safe.</remarks>
internal sealed class MessageAssembler : IDisposable
{
    /// <summary>Small, because it is held for the whole session by every idle connection; it grows for larger messages.</summary>
    internal const int InitialBufferSize = 4 * 1024;

    /// <summary>A buffer grown past this is given back after its message, so one large message does not pin memory for the whole session.</summary>
    internal const int RetainedBufferSize = 1024 * 1024;

    private readonly int _maxMessageSize;
    private byte[] _buffer;
    private int _count;

    public MessageAssembler(int maxMessageSize)
    {
        _maxMessageSize = maxMessageSize;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferSize, maxMessageSize + 1));
    }

    /// <summary>The bytes of the current message so far.</summary>
    public int Count => _count;

    /// <summary>Where the next receive writes: the free part of the buffer, never reaching more than one byte past the limit.</summary>
    public Memory<byte> GetReceiveBuffer()
    {
        int limit = _maxMessageSize + 1;
        if (_count == _buffer.Length)
        {
            Grow(Math.Min((long)_buffer.Length * 2, limit));
        }

        return _buffer.AsMemory(_count, Math.Min(_buffer.Length, limit) - _count);
    }

    /// <summary>Records <paramref name="received"/> more bytes; false when the message is now over the limit.</summary>
    public bool Advance(int received)
    {
        _count += received;
        return _count <= _maxMessageSize;
    }

    /// <summary>Hands out the whole message (text decoded, binary as an exact-size copy) and starts the next one.</summary>
    public WebSocketMessage TakeMessage(WebSocketMessageType messageType)
    {
        var content = _buffer.AsSpan(0, _count);
        var message = messageType == WebSocketMessageType.Text
            ? new WebSocketMessage(Encoding.UTF8.GetString(content))
            : new WebSocketMessage(content.ToArray());
        Reset();
        return message;
    }

    /// <summary>Forgets the current message (after it was dropped or discarded).</summary>
    public void Reset()
    {
        _count = 0;
        if (_buffer.Length > RetainedBufferSize)
        {
            Replace(ArrayPool<byte>.Shared.Rent(InitialBufferSize), copy: false);
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Grow(long size) => Replace(ArrayPool<byte>.Shared.Rent((int)size), copy: true);

    private void Replace(byte[] next, bool copy)
    {
        if (copy)
        {
            _buffer.AsSpan(0, _count).CopyTo(next);
        }

        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }
}
