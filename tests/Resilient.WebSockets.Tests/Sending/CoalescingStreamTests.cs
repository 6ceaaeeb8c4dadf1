using System.Net.WebSockets;
using System.Text;
using Resilient.WebSockets.Sending;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Sending;

/// <summary>The coalescing transport under the runtime's own WebSocket implementation (ManagedWebSocket), in memory.</summary>
public sealed class CoalescingStreamTests : IDisposable
{
    private readonly RecordingStream _recorder;
    private readonly CoalescingStream _sut;
    private readonly WebSocket _client;
    private readonly WebSocket _server;

    public CoalescingStreamTests()
    {
        var pipe = new InMemoryPipe(TimeProvider.System);
        var (clientEnd, serverEnd) = (pipe.Client, pipe.Server);
        _recorder = new RecordingStream(clientEnd);
        _sut = new CoalescingStream(_recorder);
        _client = WebSocket.CreateFromStream(_sut, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        _server = WebSocket.CreateFromStream(serverEnd, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        _sut.Dispose();
        _recorder.Dispose();
    }

    private async Task<List<string>> ReceiveAsync(int count)
    {
        var texts = new List<string>();
        var buffer = new byte[1024];
        while (texts.Count < count)
        {
            var result = await _server.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(Testing.ClientProbe.DefaultTimeout);
            texts.Add(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        return texts;
    }

    [Fact]
    public async Task Disposed_AWriteThatComesLater_FailsInsteadOfWaitingForever()
    {
        // The socket is aborted (the stream disposed) while the send loop is between two writes: its next write, flush
        // or ping must fail at once, or the session never ends (found with a server that drops links mid-burst).
        _sut.BeginFrames();
        _sut.BufferNextWrite();
        await _sut.WriteAsync(new byte[] { 0x81, 0x80, 0, 0, 0, 0 }); // held
        _sut.Dispose();

        var write = _sut.WriteAsync(new byte[] { 0x81, 0x80, 0, 0, 0, 0 }).AsTask();
        var flush = _sut.FlushBatchAsync(CancellationToken.None).AsTask();
        var ping = _sut.WritePingAsync().AsTask();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => write.WaitAsync(Testing.ClientProbe.DefaultTimeout));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => flush.WaitAsync(Testing.ClientProbe.DefaultTimeout));
        await ping.WaitAsync(Testing.ClientProbe.DefaultTimeout); // a ping after the end does nothing
        Assert.Equal(0, _sut.Buffered);
    }

    [Fact]
    public async Task WriteAsync_NotAnnounced_EveryFrameIsExactlyOneWrite()
    {
        // Guards the runtime behaviour coalescing relies on: one WriteAsync per frame.
        for (int i = 0; i < 5; i++)
        {
            await _client.SendAsync(Encoding.UTF8.GetBytes($"m{i}"), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        Assert.Equal(5, _recorder.Writes);
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], await ReceiveAsync(5));
    }

    [Fact]
    public async Task FlushAsync_AnnouncedFrames_GoOutAsOneWriteInOrder()
    {
        for (int i = 0; i < 50; i++)
        {
            _sut.BufferNextWrite();
            await _client.SendAsync(Encoding.UTF8.GetBytes($"m{i}"), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        Assert.Equal(0, _recorder.Writes); // the runtime's FlushAsync after each frame must not release them
        Assert.True(_sut.Buffered > 0);

        await _sut.FlushBatchAsync(CancellationToken.None);

        Assert.Equal(1, _recorder.Writes);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), await ReceiveAsync(50));
    }

    [Fact]
    public async Task WriteAsync_UnannouncedAfterHeldFrames_GoesOutAtOnceAfterThem()
    {
        _sut.BufferNextWrite();
        await _client.SendAsync("held"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        // A frame nobody announced (as a ping, pong or close would be) is never held back.
        await _client.SendAsync("straight"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(2, _recorder.Writes);
        Assert.Equal(0, _sut.Buffered);
        Assert.Equal(["held", "straight"], await ReceiveAsync(2));
    }

    [Fact]
    public async Task CancelBufferNextWrite_AnnouncementWithdrawn_NextWriteGoesStraight()
    {
        _sut.BufferNextWrite();
        _sut.CancelBufferNextWrite();

        await _client.SendAsync("x"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(1, _recorder.Writes);
    }

    [Fact]
    public async Task WritePingAsync_DuringTheHandshake_WritesNothing()
    {
        await _sut.WritePingAsync();

        Assert.Equal(0, _recorder.Writes);
    }

    [Fact]
    public async Task WritePingAsync_AfterHeldFrames_FollowsThemAndTheServerAnswersWithAPong()
    {
        _sut.BeginFrames();
        _sut.BufferNextWrite();
        await _client.SendAsync("held"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        await _sut.WritePingAsync();

        Assert.Equal(2, _recorder.Writes); // the held frame first, then the ping: never one inside the other
        Assert.Equal([0x89, 0x80, 0, 0, 0, 0], _recorder.LastWrite);

        // The server's WebSocket reads the ping as a ping (it answers while it receives) and the frame around it intact.
        var serverReceive = ReceiveAsync(2);
        long reads = _sut.Reads;
        var clientReceive = _client.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask();
        await _server.SendAsync("after"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await _client.SendAsync("next"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(["held", "next"], await serverReceive);
        var received = await clientReceive.WaitAsync(Testing.ClientProbe.DefaultTimeout);
        Assert.Equal(5, received.Count); // the pong was read and skipped by the client's WebSocket, then "after"
        Assert.True(_sut.Reads > reads);
    }

    [Fact]
    public async Task WritePingAsync_AfterTheRuntimeWroteACloseFrame_WritesNothing()
    {
        _sut.BeginFrames();
        await _client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        int writes = _recorder.Writes;

        await _sut.WritePingAsync();

        Assert.Equal(writes, _recorder.Writes);
    }

    [Fact]
    public async Task Reads_CountsEveryReadOfTheRuntime()
    {
        long before = _sut.Reads;
        var receive = _client.ReceiveAsync(new byte[16].AsMemory(), CancellationToken.None).AsTask();
        await _server.SendAsync("x"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        await receive.WaitAsync(Testing.ClientProbe.DefaultTimeout);

        Assert.True(_sut.Reads > before);
    }

    private sealed class RecordingStream(Stream inner) : Stream
    {
        private int _writes;

        public int Writes => Volatile.Read(ref _writes);

        public byte[] LastWrite { get; private set; } = [];

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _writes);
            LastWrite = buffer.ToArray();
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Write(byte[] buffer, int offset, int count)
        {
            Interlocked.Increment(ref _writes);
            inner.Write(buffer, offset, count);
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
