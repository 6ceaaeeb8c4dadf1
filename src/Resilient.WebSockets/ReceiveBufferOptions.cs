namespace Resilient.WebSockets;

/// <summary>What a full receive buffer does with one more incoming message.</summary>
public enum ReceiveBufferFullMode
{
    /// <summary>Backpressure: the receive loop stops reading until the observers catch up. Nothing is lost, but while it
    /// waits, pongs and close frames are not read either, so observers slower than the keep-alive timeout for that long
    /// end the session (<see cref="DisconnectReason.KeepAliveTimeout"/>).</summary>
    Wait = 0,

    /// <summary>The oldest buffered message is dropped to make room; reading never stops.</summary>
    DropOldest = 1,

    /// <summary>The most recently buffered message is dropped to make room for the new one; reading never stops.</summary>
    DropNewest = 2,
}

/// <summary>The buffer between the socket and the observers of <see cref="ReconnectingWebSocket.Messages"/>.</summary>
/// <remarks>
/// The receive loop puts each whole message into the buffer and goes back to reading at once, so pongs and close
/// frames are processed while observers are busy; one dispatch loop hands the messages to the observers, in order.
/// Every message dropped from a full buffer is reported on <see cref="ReconnectingWebSocket.Dropped"/>
/// (<see cref="MessageDirection.Incoming"/>, <see cref="DropReason.ReceiveBufferFull"/>). The buffer counts messages,
/// so at worst it holds <see cref="Capacity"/> × <see cref="ReconnectingWebSocketOptions.MaxMessageSize"/> bytes.
/// Read when the client is created; later changes have no effect.
/// </remarks>
public sealed class ReceiveBufferOptions
{
    /// <summary>The largest number of received messages waiting for the observers.</summary>
    /// <value>Default: 1 024. Between 1 and 1 048 576.</value>
    public int Capacity { get; set; } = 1024;

    /// <summary>What a full buffer does with one more message.</summary>
    /// <value>Default: <see cref="ReceiveBufferFullMode.Wait"/>.</value>
    public ReceiveBufferFullMode FullMode { get; set; } = ReceiveBufferFullMode.Wait;

    /// <summary>Skips the buffer: observers run on the receive loop itself, one hop fewer. A slow observer then stops
    /// reading, pongs included.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool DeliverInline { get; set; }

    internal ReceiveBufferOptions Clone() => (ReceiveBufferOptions)MemberwiseClone();
}
