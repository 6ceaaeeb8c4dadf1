using System.Net.WebSockets;
using Resilient.WebSockets.Connection;
using Resilient.WebSockets.Sending;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Connection;

public class WebSocketSessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A session on a socket the runtime has just aborted: one queued message, whose write fails first; returns
    /// how the session ended and how many messages wait for the next one.</summary>
    private static async Task<(DisconnectedInfo Ended, int Waiting)> WriteOnAnAbortedSocketAsync(bool keepAliveTimesOut)
    {
        var (context, _) = TestContexts.Create(new ReconnectingWebSocketOptions { Uri = new Uri("ws://example.test/"), TimeProvider = new TestTimeProvider() });
        await using var sut = new WebSocketSession(new ConnectedSocket(new AbortedByTheRuntime(), Coalescer: null, keepAliveTimesOut), context);
        sut.StartReceiving();
        sut.StartSending();

        Assert.True(context.Sender.TryEnqueue(new OutgoingMessage(new byte[] { 1 }, WebSocketMessageType.Binary, null, null)));
        var ended = await sut.WaitForEndAsync().WaitAsync(Timeout);
        return (ended, context.Sender.Queue.Count);
    }

    [Fact]
    public async Task RuntimeKeepAliveAbort_AWriteThatFailsFirst_DoesNotHideTheLatePong()
    {
        var (ended, waiting) = await WriteOnAnAbortedSocketAsync(keepAliveTimesOut: true);

        Assert.Equal(DisconnectReason.KeepAliveTimeout, ended.Reason);
        Assert.Equal(1, waiting); // the message waits for the next session
    }

    [Fact]
    public async Task AWriteThatFails_OnASocketWithoutAPongTimeout_IsALostConnection()
    {
        var (ended, _) = await WriteOnAnAbortedSocketAsync(keepAliveTimesOut: false);

        Assert.Equal(DisconnectReason.ConnectionLost, ended.Reason);
        Assert.IsType<WebSocketException>(ended.Exception);
    }

    /// <summary>
    /// A socket as the runtime leaves it when a pong is late: aborted, so a write fails at once; the pending receive fails
    /// with the runtime's <see cref="OperationCanceledException"/> only when someone next looks at the socket (its state,
    /// or an abort): that puts the write's failure first, the order that hid the keep-alive timeout.
    /// </summary>
    private sealed class AbortedByTheRuntime : WebSocket
    {
        private readonly TaskCompletionSource<ValueWebSocketReceiveResult> _receive = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _aborted;

        public override WebSocketCloseStatus? CloseStatus => null;

        public override string? CloseStatusDescription => null;

        public override string? SubProtocol => null;

        public override WebSocketState State
        {
            get
            {
                if (_aborted)
                {
                    FailReceive();
                    return WebSocketState.Aborted;
                }

                return WebSocketState.Open;
            }
        }

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            _aborted = true;
            return ValueTask.FromException(new WebSocketException(WebSocketError.InvalidState, "The WebSocket is in an invalid state ('Aborted') for this operation."));
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

        public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            new(_receive.Task);

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override void Abort()
        {
            _aborted = true;
            FailReceive();
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Dispose() => Abort();

        private void FailReceive() => _receive.TrySetException(
            new OperationCanceledException("Aborted", new WebSocketException(WebSocketError.Faulted, "The WebSocket didn't receive a Pong frame in response to a Ping frame within the configured KeepAliveTimeout.")));
    }
}
