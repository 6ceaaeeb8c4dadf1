using System.Threading.Channels;

namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>Two connected in-memory streams: what one end writes, the other reads. <see cref="PipeEndStream.Break"/> fails both, like a reset.</summary>
public static class DuplexPipe
{
    public static (PipeEndStream Client, PipeEndStream Server) Create()
    {
        var toServer = Channel.CreateUnbounded<byte[]>();
        var toClient = Channel.CreateUnbounded<byte[]>();
        return (new PipeEndStream(toClient, toServer), new PipeEndStream(toServer, toClient));
    }

    public sealed class PipeEndStream(Channel<byte[]> incoming, Channel<byte[]> outgoing) : Stream
    {
        private byte[] _current = [];
        private int _offset;
        private TaskCompletionSource? _writeGate;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Fails every pending and later read and write on both ends.</summary>
        public void Break()
        {
            var error = new IOException("Connection reset (test).");
            incoming.Writer.TryComplete(error);
            outgoing.Writer.TryComplete(error);
            _writeGate?.TrySetException(error);
        }

        /// <summary>From now on writes on this end wait (as on a full TCP window) until <see cref="ReleaseWrites"/>; closing the
        /// stream fails the waiting write.</summary>
        public void HoldWrites() => Volatile.Write(ref _writeGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public void ReleaseWrites() => Interlocked.Exchange(ref _writeGate, null)?.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset == _current.Length)
            {
                try
                {
                    if (!await incoming.Reader.WaitToReadAsync(cancellationToken) || !incoming.Reader.TryRead(out var next))
                    {
                        return 0;
                    }

                    _current = next;
                    _offset = 0;
                }
                catch (ChannelClosedException ex) when (ex.InnerException is IOException io)
                {
                    throw io;
                }
            }

            int count = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _writeGate) is { } gate)
            {
                return WriteWhenReleasedAsync(gate.Task, buffer.ToArray(), cancellationToken);
            }

            Write(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        private async ValueTask WriteWhenReleasedAsync(Task released, byte[] bytes, CancellationToken cancellationToken)
        {
            await released.WaitAsync(cancellationToken);
            Write(bytes);
        }

        private void Write(byte[] bytes)
        {
            if (!outgoing.Writer.TryWrite(bytes))
            {
                throw new IOException("Connection reset (test).");
            }
        }

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
                outgoing.Writer.TryComplete();
                incoming.Writer.TryComplete();
                _writeGate?.TrySetException(new ObjectDisposedException(nameof(PipeEndStream)));
            }

            base.Dispose(disposing);
        }
    }
}
