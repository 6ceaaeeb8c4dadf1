using System.Buffers;

namespace Resilient.WebSockets.Sending;

/// <summary>
/// The transport stream under a <c>ClientWebSocket</c> (returned by the handler's ConnectCallback), able to gather the
/// frames of several queued messages into one socket write. On HTTP/1.1 the runtime writes every frame with exactly one
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> (a test guards that).
/// </summary>
/// <remarks>
/// Only a write announced by <see cref="BufferNextWrite"/> is held: the send loop announces each queued message's frame
/// and calls <see cref="FlushBatchAsync"/> when the queue runs empty or the batch is full. The runtime's own
/// FlushAsync after each frame does not release the batch. Every other
/// write (pings, pongs, close frames, the handshake, TLS records of those) goes straight through, after whatever is
/// buffered, so it never waits in the buffer. One lock orders writes and flushes; reads pass through, counted.
/// <para>It is also the transport of the client's own keep-alive (<see cref="Health.KeepAliveMonitor"/>): once the
/// session is open, <see cref="WritePingAsync"/> writes a ping frame between two of the runtime's frames (never inside
/// one, since every frame is one write under the same lock), and <see cref="Reads"/> tells whether anything arrived
/// since. A close frame written by the runtime ends the pings (nothing may follow it).</para>
/// </remarks>
internal sealed class CoalescingStream : Stream, Health.IKeepAliveLink
{
    /// <summary>The send loop flushes once this much is buffered.</summary>
    public const int FlushThreshold = 32 * 1024;

    /// <summary>... or once this many messages are held, which bounds the messages in flight beyond the queue's capacity.</summary>
    public const int MaxBatchMessages = 128;

    private const int BufferSize = 64 * 1024;

    /// <summary>A client's ping frame: FIN + opcode 9, masked, no payload (so the masking key masks nothing).</summary>
    private static readonly byte[] PingFrame = [0x89, 0x80, 0, 0, 0, 0];

    private const int CloseOpcode = 0x8;

    private readonly Stream _inner;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[]? _buffer;
    private int _count;
    private int _bufferNext;
    private int _disposed;
    private long _reads;
    private volatile bool _framing;
    private volatile bool _closeWritten;

    public CoalescingStream(Stream inner) => _inner = inner;

    /// <summary>Bytes held, waiting for <see cref="FlushBatchAsync"/>.</summary>
    public int Buffered => Volatile.Read(ref _count);

    /// <summary>Physical writes to the inner stream so far (for tests and diagnostics).</summary>
    public long InnerWrites { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Read calls so far. The runtime issues the next read only once the previous one returned, so a change
    /// means that data arrived (or, at most once, that a read returned before and its successor started after).</summary>
    public long Reads => Volatile.Read(ref _reads);

    /// <summary>The handshake is over: every write from here on is one whole WebSocket frame (and a close frame among
    /// them ends the pings).</summary>
    public void BeginFrames() => _framing = true;

    /// <summary>Writes a ping frame after whatever is held, unless a close frame was written already. Never inside a
    /// frame: the runtime writes each frame with one call, under the same lock.</summary>
    public async ValueTask WritePingAsync()
    {
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_closeWritten || !_framing || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            await FlushBufferAsync(CancellationToken.None).ConfigureAwait(false);
            InnerWrites++;
            await _inner.WriteAsync(PingFrame, CancellationToken.None).ConfigureAwait(false);
            await _inner.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Holds the next write in the buffer (if it fits) instead of sending it.</summary>
    public void BufferNextWrite() => Volatile.Write(ref _bufferNext, 1);

    /// <summary>Withdraws an announcement whose write never came (the send failed first), so no other write is held by mistake.</summary>
    public void CancelBufferNextWrite() => Volatile.Write(ref _bufferNext, 0);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        bool hold = Interlocked.Exchange(ref _bufferNext, 0) == 1;
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            if (hold && _count + buffer.Length <= BufferSize)
            {
                _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
                buffer.CopyTo(_buffer.AsMemory(_count));
                Volatile.Write(ref _count, _count + buffer.Length);
                return;
            }

            if (_framing && !buffer.IsEmpty && (buffer.Span[0] & 0x0F) == CloseOpcode)
            {
                _closeWritten = true;
            }

            await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
            InnerWrites++;
            await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes what is held, as one write. Only the send loop calls this, when its batch is complete.</summary>
    public async ValueTask FlushBatchAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            await FlushBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The runtime flushes after every frame; that must not send the held batch early, so this only flushes
    /// the inner stream. What is held goes out with the batch, or before the next write that is not held.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _reads++; // one reader at a time (the runtime's receive); the keep-alive only compares values
        return _inner.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        _reads++;
        return _inner.ReadAsync(buffer, offset, count, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        _reads++;
        return _inner.Read(buffer, offset, count);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        // Synchronous writes are not used by the WebSocket; keep them correct anyway: straight through, in order.
        _writeLock.Wait();
        try
        {
            ThrowIfDisposed();
            if (_count > 0)
            {
                _inner.Write(_buffer!, 0, _count);
                Volatile.Write(ref _count, 0);
            }

            InnerWrites++;
            _inner.Write(buffer, offset, count);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override void Flush() => _inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _inner.Dispose();
            // A buffer still held (a batch cut short) goes back only if no write holds the lock; otherwise it is left to
            // the GC. The lock is given back: a write that comes later (the send loop, a ping) must fail, not wait for ever.
            if (_writeLock.Wait(0))
            {
                var buffer = Interlocked.Exchange(ref _buffer, null);
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                Volatile.Write(ref _count, 0);
                _writeLock.Release();
            }
        }

        base.Dispose(disposing);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private async ValueTask FlushBufferAsync(CancellationToken cancellationToken)
    {
        if (_count == 0)
        {
            return;
        }

        InnerWrites++;
        await _inner.WriteAsync(_buffer.AsMemory(0, _count), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _count, 0);

        // Given back between batches, so that an idle connection holds no send buffer.
        ArrayPool<byte>.Shared.Return(_buffer!);
        _buffer = null;
    }
}
