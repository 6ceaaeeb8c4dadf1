using System.Threading.Channels;

namespace Resilient.WebSockets.Testing;

/// <summary>
/// Two connected in-memory streams, one per end: what one end writes, the other reads, in order. Each direction can be
/// slowed (a latency per chunk, on the given clock), stalled (nothing flows and nothing closes: a half-open link;
/// writes are still taken, as a kernel's buffers take them) and resumed; <see cref="Break"/> fails both ends, as a reset.
/// </summary>
internal sealed class InMemoryPipe
{
    public InMemoryPipe(TimeProvider timeProvider)
    {
        ToServer = new Direction(timeProvider);
        ToClient = new Direction(timeProvider);
        Client = new End(this, incoming: ToClient, outgoing: ToServer);
        Server = new End(this, incoming: ToServer, outgoing: ToClient);
    }

    public End Client { get; }

    public End Server { get; }

    /// <summary>What the client writes and the server reads.</summary>
    public Direction ToServer { get; }

    /// <summary>What the server writes and the client reads.</summary>
    public Direction ToClient { get; }

    /// <summary>Fails every pending and later read and write of both ends, as a TCP reset.</summary>
    public void Break()
    {
        var error = new IOException("Connection reset by the in-memory server.");
        ToServer.Fail(error);
        ToClient.Fail(error);
    }

    /// <summary>One direction: chunks in write order, each due after the latency that applied when it was written.</summary>
    internal sealed class Direction(TimeProvider timeProvider)
    {
        private readonly Channel<Chunk> _chunks = Channel.CreateUnbounded<Chunk>(new UnboundedChannelOptions { SingleReader = true });
        private TaskCompletionSource? _stall;
        private TaskCompletionSource? _writeGate;
        private bool _readerClosed;

        public TimeSpan Latency { get; set; }

        public bool IsStalled => Volatile.Read(ref _stall) is not null;

        /// <summary>Nothing is read from now on (what was written waits) until <see cref="Resume"/>.</summary>
        public void Stall() => Interlocked.CompareExchange(ref _stall, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

        public void Resume() => Interlocked.Exchange(ref _stall, null)?.TrySetResult();

        /// <summary>Writes wait from now on, as on a full TCP window, until <see cref="ReleaseWrites"/>.</summary>
        public void HoldWrites() => Interlocked.CompareExchange(ref _writeGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

        public void ReleaseWrites() => Interlocked.Exchange(ref _writeGate, null)?.TrySetResult();

        public void Fail(Exception error)
        {
            _chunks.Writer.TryComplete(error);
            Interlocked.Exchange(ref _writeGate, null)?.TrySetException(error);
            Resume();
        }

        /// <summary>The writer is done: the reader reads what is left, then end-of-stream (after a stall, once resumed:
        /// a half-open link does not carry the FIN either).</summary>
        public void Complete()
        {
            _chunks.Writer.TryComplete();
            Interlocked.Exchange(ref _writeGate, null)?.TrySetException(new ObjectDisposedException(nameof(InMemoryPipe)));
        }

        /// <summary>The reader is gone (its end was disposed): what was not read is never read, and a read under way ends.</summary>
        public void CloseReader()
        {
            Volatile.Write(ref _readerClosed, true);
            Complete();
            Resume();
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            var chunk = new Chunk(buffer.ToArray(), Latency > TimeSpan.Zero ? timeProvider.GetTimestamp() : 0, Latency);
            return Volatile.Read(ref _writeGate) is { } gate ? WriteWhenReleasedAsync(gate.Task, chunk, cancellationToken) : Write(chunk);
        }

        /// <summary>The next chunk, once it is due and the direction is not stalled; null at end-of-stream.</summary>
        public async ValueTask<Chunk?> ReadAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (Volatile.Read(ref _readerClosed))
                {
                    return null;
                }

                if (Volatile.Read(ref _stall) is { } stall)
                {
                    await stall.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    if (!await _chunks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }
                }
                catch (ChannelClosedException ex) when (ex.InnerException is IOException io)
                {
                    throw new IOException(io.Message, io);
                }

                if (!_chunks.Reader.TryPeek(out var chunk))
                {
                    continue;
                }

                var wait = chunk.Latency - timeProvider.GetElapsedTime(chunk.Written);
                if (chunk.Latency > TimeSpan.Zero && wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
                    continue; // stalled meanwhile? checked again
                }

                if (Volatile.Read(ref _stall) is not null || Volatile.Read(ref _readerClosed))
                {
                    continue;
                }

                _chunks.Reader.TryRead(out _);
                return chunk;
            }
        }

        private async ValueTask WriteWhenReleasedAsync(Task released, Chunk chunk, CancellationToken cancellationToken)
        {
            await released.WaitAsync(cancellationToken).ConfigureAwait(false);
            await Write(chunk).ConfigureAwait(false);
        }

        private ValueTask Write(Chunk chunk) => _chunks.Writer.TryWrite(chunk)
            ? ValueTask.CompletedTask
            : ValueTask.FromException(new IOException("Connection reset by the in-memory server."));
    }

    internal sealed record Chunk(byte[] Data, long Written, TimeSpan Latency);

    /// <summary>One end of the pipe as a stream (what <see cref="System.Net.WebSockets.WebSocket.CreateFromStream(Stream, System.Net.WebSockets.WebSocketCreationOptions)"/> runs over).</summary>
    internal sealed class End(InMemoryPipe pipe, Direction incoming, Direction outgoing) : Stream
    {
        private byte[] _current = [];
        private int _offset;

        public InMemoryPipe Pipe => pipe;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Writes bytes to the other end as they are, outside any framing (a malformed frame, say).</summary>
        public ValueTask WriteRawAsync(ReadOnlyMemory<byte> bytes) => outgoing.WriteAsync(bytes, CancellationToken.None);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset == _current.Length)
            {
                if (await incoming.ReadAsync(cancellationToken).ConfigureAwait(false) is not { } next)
                {
                    return 0;
                }

                _current = next.Data;
                _offset = 0;
            }

            int count = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            outgoing.WriteAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // As a socket does: the peer reads end-of-stream, and a read pending here ends too.
                outgoing.Complete();
                incoming.CloseReader();
            }

            base.Dispose(disposing);
        }
    }
}
